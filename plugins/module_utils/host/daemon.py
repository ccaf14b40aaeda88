# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""One daemon instance on a host, converged in one go: the logic of the ``daemon`` module.

``converge`` makes an instance run as described, in this order:

0. when the machine lacks what the instance needs (its binary and checker, its user, supervisord
   running, its machine-wide directories), the machine-wide step first (``machine.py``, on the
   machine's lock: the first instance of a machine does the work, the others find it done);
1. its directories;
2. its configuration (``config_files``: checked by the daemon's own checker on staged copies,
   written atomically, the last good copy kept) and its other files (a web config, each checked
   before it replaces the old one); in the directories it owns (``owned_dirs``), any other regular
   file is removed;
3. its service definition: a systemd unit, or a supervisord program;
4. the service: started when it does not run, restarted when its definition changed or the process
   runs a binary that was replaced since it started (a package upgrade), left alone otherwise;
5. the reload: when the configuration (or another file with ``reload`` true) changed and the
   process did not just (re)start, or when the files are newer than the configuration the daemon
   last loaded (an earlier run stopped between its write and its reload), it reloads without a
   restart, proves the new configuration live and rolls back to the last good one when it is not
   (``reload.py``). Files with ``reload`` false (Prometheus' file_sd target files: the daemon reads
   them itself) and files removed from an owned directory never reload it.

A (re)started instance serves when its ``ready_path`` (``/-/ready``, or ``/metrics`` for an exporter
without it) answers 200.

In check mode nothing changes: the result says what would be done, with the diffs (secrets
redacted). ``remove`` undoes all of it; the last instance of a private supervisord stops it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import time

from ansible_collections.promfleet.federation.plugins.module_utils.errors import DaemonError
from ansible_collections.promfleet.federation.plugins.module_utils.host import (
    checkers,
    config_files,
    definitions,
    description,
    files,
    machine,
    reload,
    service,
)
from ansible_collections.promfleet.federation.plugins.module_utils.host.client import PrometheusClient

POLL_SECONDS = 0.2
DEFINITION_ATTRIBUTES = files.FileAttributes(0, 0, 0o644)


def _service_of(params: dict, manager: str):
    return service.manager(manager, params["systemd_unit_dir"], params["supervisord_conf"],
                           params["supervisord_program_dir"])


class Converge:
    """The steps of one run for one instance; ``done`` says what happened, ``diffs`` what changed."""

    def __init__(self, params: dict, client: PrometheusClient, check_mode: bool) -> None:
        self.params = params
        self.client = client
        self.check_mode = check_mode
        self.instance = params["name"]
        self.manager = service.resolve(params["service_manager"])
        self.service = _service_of(params, self.manager)
        self.done: list = []
        self.diffs: list = []
        self.notes: list = []
        problems = description.layout_problems(params)
        if problems:
            raise DaemonError("; ".join(problems))

    # --- what the machine must provide -----------------------------------------------------------------

    def machine_lacks(self) -> list:
        """What the machine step (the ``machine`` module) provides and is not there: the binary and
        the checkers, the users and groups the files belong to, the machine-wide directories, and
        supervisord running."""
        lacks = []
        checkers_ = [spec["checker"] for spec in [self.params["config"] or {}] + self.params["files"]
                     if spec.get("checker")]
        for path in [self.params["binary"]] + [checker[0] for checker in checkers_]:
            if not os.access(path, os.X_OK):
                lacks.append("%s is not installed" % path)
        # The instance's own user and group, and those its files and directories belong to.
        owners = [{"owner": self.params["user"], "group": self.params["group"]}, self.params["config"] or {}]
        owners += self.params["files"] + self.params["directories"]
        for spec in owners:
            if spec.get("owner") and files.user_id(spec["owner"], missing_ok=True) is None:
                lacks.append("user %s does not exist" % spec["owner"])
            if spec.get("group") and files.group_id(spec["group"], missing_ok=True) is None:
                lacks.append("group %s does not exist" % spec["group"])
        machine_paths = [spec["path"] for spec in (self.params["machine"] or {}).get("directories") or []]
        lacks += ["%s does not exist" % path for path in machine_paths if not os.path.isdir(path)]
        if self.manager == service.SUPERVISORD and not self.service.running():
            lacks.append("supervisord (%s) does not run" % self.params["supervisord_conf"])
        return sorted(set(lacks), key=lacks.index)

    # --- files --------------------------------------------------------------------------------------

    def directories(self) -> None:
        for spec in self.params["directories"]:
            attributes = files.resolve_attributes(spec["owner"], spec["group"], spec["mode"],
                                                  missing_ok=self.check_mode)
            why = files.directory_changes(spec["path"], attributes)
            if why is None:
                continue
            self.done.append("%s %s" % ("created" if why == "create" else "set the owner and mode of", spec["path"]))
            if why == "create":
                self.diffs.append(files.directory_diff(spec["path"]))
            if not self.check_mode:
                files.converge_directory(spec["path"], attributes)

    def checker(self, argv: list | None, what: str) -> list | None:
        """``argv`` when its binary can run; in check mode a machine not installed yet has none,
        and only the engine's check (made before the run) applies."""
        if not argv:
            return None
        if checkers.available(argv):
            return argv
        if self.check_mode:
            self.notes.append("%s is not installed yet: %s was checked by the engine only" % (argv[0], what))
            return None
        raise DaemonError("%s cannot be run: it checks %s before it is written; is the daemon installed?"
                          % (argv[0], what))

    def config(self) -> config_files.Plan | None:
        spec = self.params["config"]
        if not spec:
            return None
        attributes = files.resolve_attributes(spec["owner"], spec["group"], spec["mode"], missing_ok=self.check_mode)
        plan = config_files.plan(spec["path"], spec["content"], spec["rule_files"], spec["rules_dir"], attributes,
                                 require_directory=not self.check_mode,
                                 kind=spec.get("kind") or config_files.PROMETHEUS)
        checker = self.checker(spec["checker"], spec["path"])
        self.diffs += config_files.diff(plan)
        if self.check_mode:
            config_files.check(plan, checker)
            changed = plan.changed
        else:
            changed = config_files.apply(plan, checker)
        if changed:
            self.done.append("wrote %s" % ", ".join([plan.path] + plan.rule_paths) if plan.content_changed
                             else "set the owner and mode of %s" % plan.path)
        return plan

    def extra_files(self) -> bool:
        """The other files (a web config): each checked by its checker before it replaces the old one.
        Whether the content of a file that reloads the daemon (``reload`` true) changed."""
        changed = False
        for spec in self.params["files"]:
            data = spec["content"].encode("utf-8")
            attributes = files.resolve_attributes(spec["owner"], spec["group"], spec["mode"],
                                                  missing_ok=self.check_mode)
            why = files.needs_write(spec["path"], data, attributes) if os.path.isdir(
                os.path.dirname(spec["path"])) else "content"
            if why is None:
                continue
            changed = changed or (why == "content" and spec.get("reload", True))
            self.done.append("wrote %s" % spec["path"])
            self.diffs.append(files.secret_diff(spec["path"], data) if spec.get("secret")
                              else files.file_diff(spec["path"], spec["content"]))
            checker = self.checker(spec["checker"], spec["path"])
            if self.check_mode:
                continue
            self._write_checked(spec["path"], data, attributes, checker)
        return changed

    def kept_in_owned_dirs(self) -> set:
        """The files an owned directory may hold: the ``files``, and the configuration with its last
        good copies."""
        kept = {spec["path"] for spec in self.params["files"]}
        if self.params["config"]:
            path = self.params["config"]["path"]
            kept |= {path, path + config_files.LAST_GOOD_SUFFIX, path + config_files.LAST_GOOD_RULES_SUFFIX}
        return {os.path.normpath(path) for path in kept}

    def owned_dirs(self) -> None:
        """Remove every regular file of an owned directory that is not one of its files. A removal
        never reloads the daemon (the daemon rereads such a directory itself)."""
        kept = self.kept_in_owned_dirs()
        for directory in self.params["owned_dirs"]:
            for path in strays(directory, kept):
                self.done.append("removed %s (not a file of %s)" % (path, directory))
                self.diffs.append(files.file_diff(path, ""))
                if not self.check_mode:
                    files.remove(path)

    @staticmethod
    def _write_checked(path: str, data: bytes, attributes: files.FileAttributes, checker: list | None) -> None:
        files.remove_leftover_temps(path)
        temp = files.write_temp(path, data, attributes)
        try:
            if checker:
                passed, output = checkers.run_check(checker, temp)
                if not passed:
                    raise DaemonError("%s refused the new %s; nothing was changed:\n%s"
                                      % (checkers.describe(checker), path, output.replace(temp, path).strip()))
            files.install(temp, path)
        finally:
            files.remove(temp)

    def definition(self) -> bool:
        """The systemd unit or supervisord program; whether it changed."""
        path = self.service.definition_path(self.instance)
        spec = dict(self.params, instance=self.instance)
        text = (definitions.systemd_unit(spec) if self.manager == service.SYSTEMD
                else definitions.supervisord_program(spec))
        data = text.encode("utf-8")
        before = files.read(path)
        if before == data:
            return False
        self.diffs.append(files.file_diff(path, text, before))
        self.done.append("wrote %s" % path)
        if not self.check_mode:
            files.converge_file(path, data, DEFINITION_ATTRIBUTES)
        return True

    # --- the service --------------------------------------------------------------------------------

    def run_service(self, definition_changed: bool) -> str | None:
        """Start or restart as needed; what was done (``started``, ``restarted``) or None."""
        binary = self.params["binary"]
        if self.manager == service.SYSTEMD:
            if self.check_mode:
                active = self.service.is_active(self.instance)
            else:
                if definition_changed:
                    self.service.daemon_reload()
                active = self.service.is_active(self.instance)
            if not active:
                action, why = "started", "it did not run"
            elif definition_changed:
                action, why = "restarted", "its unit changed"
            elif service.runs_other_binary(self.service.pid(self.instance), binary):
                action, why = "restarted", "its binary was replaced"
            else:
                action = why = None
            if action and not self.check_mode:
                (self.service.start if action == "started" else self.service.restart)(self.instance)
            if not self.service.is_enabled(self.instance):
                self.done.append("enabled %s" % self.instance)
                if not self.check_mode:
                    self.service.enable(self.instance)
        else:
            pid = self.service.pid(self.instance) if self.service.running() else None
            if pid is None:
                action, why = "started", "it did not run"
            elif definition_changed:
                action, why = "restarted", "its program changed"
            elif service.runs_other_binary(pid, binary):
                action, why = "restarted", "its binary was replaced"
            else:
                action = why = None
            if action and not self.check_mode:
                if definition_changed:
                    self.service.update(self.instance)  # starts or restarts it with the new program
                    if self.service.pid(self.instance) is None:
                        self.service.start(self.instance)
                elif action == "started":
                    self.service.start(self.instance)
                else:
                    self.service.restart(self.instance)
        if action is None:
            return None
        self.done.append("%s %s (%s)" % ("would have " + action if self.check_mode else action, self.instance, why))
        header = "%s (%s)" % (self.instance, self.manager)
        self.diffs.append({"before_header": header, "after_header": header,
                           "before": "running\n" if action == "restarted" else "not running\n",
                           "after": "%s: %s\n" % (action, why)})
        if not self.check_mode:
            self.wait_until_ready()
        return action

    def wait_until_ready(self) -> None:
        """Wait until ``ready_path`` answers 200; DaemonError naming it after ``start_timeout``."""
        timeout = self.params["start_timeout"]
        path = self.params["ready_path"]
        deadline = time.monotonic() + timeout
        while not self.client.ready(path):
            if time.monotonic() > deadline:
                raise DaemonError(
                    "%s does not answer %s%s %d s after its start; see its log (%s)"
                    % (self.instance, self.client.url, path, timeout, self.log_hint()))
            time.sleep(POLL_SECONDS)

    def log_hint(self) -> str:
        if self.manager == service.SYSTEMD:
            return "journalctl -u %s" % self.instance
        return "supervisorctl -c %s tail %s" % (self.params["supervisord_conf"], self.instance)

    # --- the reload ---------------------------------------------------------------------------------

    def trigger(self) -> reload.Trigger:
        if self.params["reload_method"] == "http":
            return reload.Trigger("http")
        return reload.Trigger("signal", service_manager=self.manager, service_name=self.instance,
                              supervisord_conf=self.params["supervisord_conf"])

    def reload_if_needed(self, plan: config_files.Plan | None, content_changed: bool) -> dict | None:
        """Reload when the configuration changed, or when the files are newer than what the daemon
        last loaded; the reload's result, or None when none was due."""
        if self.params["reload_method"] == "none" or plan is None:
            return None
        prefix = self.params["reload_proof"]
        if not content_changed:
            newest = config_files.newest_mtime(plan)
            if self.check_mode or newest is None or newest <= self.client.reload_state(prefix)["timestamp"]:
                return None
            self.done.append("the files in %s are newer than the configuration %s last loaded (an earlier run "
                             "stopped before its reload)" % (os.path.dirname(plan.path), self.instance))
        if self.check_mode:
            self.done.append("would reload %s" % self.instance)
            return None
        result = reload.reload(self.client, self.trigger(), self.params["reload_timeout"], plan.path, rollback=True,
                               checker=self.checker(self.params["config"]["checker"], plan.path), prefix=prefix,
                               compare=self.params["compare_config"],
                               compare_hash=self.params.get("compare_hash", False))
        self.done.append(result["msg"])
        return result

    def machine_step(self) -> dict | None:
        """When the machine lacks what the instance needs and the machine-wide step is described,
        run it first (``machine.converge``, on the machine's lock); its result, or None."""
        lacks = self.machine_lacks()
        if not lacks:
            return None
        if not self.params["machine"]:
            raise DaemonError("the machine is not ready: %s" % "; ".join(lacks))
        result = machine.converge(self.params["machine"], self.check_mode)
        self.done += result["done"]
        self.diffs += result["diff"]
        if not self.check_mode:
            # In check mode the machine step only said what it would do; the instance is reported
            # as if it had been done.
            lacks = self.machine_lacks()
            if lacks:
                raise DaemonError("the machine is still not ready after its machine-wide step: %s" % "; ".join(lacks))
        return result

    def run(self) -> dict:
        self.machine_step()
        self.directories()
        plan = self.config()
        other_files_changed = self.extra_files()
        self.owned_dirs()
        definition_changed = self.definition()
        action = self.run_service(definition_changed)
        reloaded = None
        if action is None:
            content_changed = bool(plan and plan.content_changed) or other_files_changed
            reloaded = self.reload_if_needed(plan, content_changed)
        changed = bool(self.done)
        return {
            "changed": changed,
            "msg": "; ".join(self.done + self.notes) or "%s runs as described" % self.instance,
            "service_manager": self.manager,
            "service_action": action,
            "reload": reloaded,
            "diff": self.diffs,
        }


def choose_install(params: dict) -> None:
    """The auto install method (``machine.package_choice``): when the distribution's packages are of
    the release line, install them instead of the archive, and run their binaries (``params`` is
    changed in place); otherwise the archive stays."""
    paths = machine.choose_packages(params.get("machine") or {})
    if not paths:
        return
    params["binary"] = paths.get(params["binary"], params["binary"])
    for spec in [params.get("config") or {}] + list(params.get("files") or []):
        if spec.get("checker"):
            spec["checker"] = [paths.get(spec["checker"][0], spec["checker"][0])] + list(spec["checker"][1:])


def converge(params: dict, client: PrometheusClient, check_mode: bool = False) -> dict:
    """Make one instance run as described (see the module docstring); the module's result."""
    choose_install(params)
    return Converge(params, client, check_mode).run()


def strays(directory: str, kept: set) -> list:
    """The regular files directly in ``directory`` whose paths are not in ``kept`` (normalized paths),
    sorted; none when the directory does not exist."""
    if not os.path.isdir(directory):
        return []
    found = []
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if os.path.isfile(path) and not os.path.islink(path) and os.path.normpath(path) not in kept:
            found.append(path)
    return found


# --- removal -----------------------------------------------------------------------------------------


def _remove_path(path: str) -> bool:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
        return True
    return files.remove(path)


def wait_port_free(host: str, port: int, timeout: float) -> None:
    """Wait until nothing accepts connections on ``host:port``; DaemonError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.closing(socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)) as sock:
            sock.settimeout(0.5)
            if sock.connect_ex((host, port)) != 0:
                return
        if time.monotonic() > deadline:
            raise DaemonError("port %d on %s still accepts connections %d s after the instance stopped" % (
                port, host, timeout))
        time.sleep(POLL_SECONDS)


def _remove_program(params: dict, supervisord: service.Supervisord, check_mode: bool) -> list:
    """Stop and forget the program; stop a private supervisord that has nothing left to run."""
    done = []
    instance = params["name"]
    path = supervisord.definition_path(instance)
    running = supervisord.running()
    if running and supervisord.pid(instance) is not None:
        done.append("stopped %s" % instance)
        if not check_mode:
            supervisord.stop(instance)
    if os.path.exists(path):
        done.append("removed %s" % path)
        if not check_mode:
            files.remove(path)
            if running:
                supervisord.update(instance)
    if not (params["supervisord_private"] and running):
        return done
    left = [name for name in os.listdir(params["supervisord_program_dir"]) if name.endswith(".conf")] \
        if os.path.isdir(params["supervisord_program_dir"]) else []
    if left and not (check_mode and left == [os.path.basename(path)]):
        return done
    done.append("stopped the private supervisord (no program left)")
    if check_mode:
        return done
    supervisord.shutdown()
    pidfile = service.supervisord_pidfile(params["supervisord_run_dir"])
    deadline = time.monotonic() + 30
    while os.path.exists(pidfile):
        if time.monotonic() > deadline:
            raise DaemonError("the private supervisord still runs 30 s after `supervisorctl shutdown`; stop it with "
                              "`%s` and run the teardown again" % " ".join(supervisord.ctl_command("shutdown")))
        time.sleep(POLL_SECONDS)
    return done


def remove(params: dict, check_mode: bool = False) -> dict:
    """Stop the instance and remove what ``converge`` made (see the module docstring)."""
    manager = service.resolve(params["service_manager"])
    svc = _service_of(params, manager)
    done = []
    if manager == service.SYSTEMD:
        path = svc.definition_path(params["name"])
        if svc.is_active(params["name"]) or svc.is_enabled(params["name"]):
            done.append("stopped and disabled %s" % params["name"])
            if not check_mode:
                svc.stop_and_disable(params["name"])
        if os.path.exists(path):
            done.append("removed %s" % path)
            if not check_mode:
                files.remove(path)
                svc.daemon_reload()
    elif check_mode:
        done += _remove_program(params, svc, check_mode)
    else:
        # Several instances of one machine are removed at once: one at a time here, so that exactly
        # the last one finds no program left and stops a private supervisord.
        with files.locked(os.path.join(params["supervisord_run_dir"], "promfleet.lock")):
            done += _remove_program(params, svc, check_mode)
    for path in params["remove"]:
        if os.path.lexists(path):
            done.append("removed %s" % path)
            if not check_mode:
                _remove_path(path)
    if params["port"] and not check_mode:
        wait_port_free(params["port_host"], params["port"], params["stop_timeout"])
    return {"changed": bool(done), "msg": "; ".join(done) or "%s is not there" % params["name"],
            "service_manager": manager}

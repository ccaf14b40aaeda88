"""A job run the way AWX runs it: receptor -> ``ansible-runner worker`` -> podman execution environment.

AWX itself cannot run here (it is neither on PyPI nor in Debian), but everything it uses to *execute*
a job can (/work/shared/notes/awx.md). This module plays AWX's part (the control plane: it builds the
job directory and hands it over) with AWX's own steps (awx/main/tasks/jobs.py, receptor.py):

- ``ReceptorNode``: a receptor node (scripts/receptor.py: sid's 1.6.9) with a control socket, a
  ``tcp-listener`` on loopback (receptor refuses to run without a backend) and the work type
  ``ansible-runner`` running ``ansible-runner worker`` with runtime parameters, as AWX configures an
  execution node. Its environment carries podman's CONTAINERS_CONF and the virtualenv on PATH.
- ``checkout``: the project as AWX's project update leaves it: a git checkout of this repository, built
  from the work tree as a commit would hold it (``git ls-files -co --exclude-standard``), so that
  uncommitted work is tested too.
- ``Controller.prepare``: the job directory (private_data_dir): ``project/`` (the checkout copied, symlinks
  kept), ``inventory/hosts`` (an executable script printing the inventory as JSON, AWX's format),
  ``env/extravars`` (every key and string ``!unsafe``, with the ``awx_*``/``tower_*`` variables),
  ``env/cmdline``, ``env/ssh_key`` (the machine credential: ansible-runner loads it into ssh-agent inside
  the EE); ``env/envvars`` and ``env/settings`` are written by ansible-runner from the parameters AWX
  passes, as in AWX.
- ``Controller.run``: ``ansible_runner.interface.run(streamer='transmit')`` piped into receptor's
  ``work submit`` (``--private-data-dir=... --delete``, as for an AWX execution node), then the work
  results fed to ``streamer='process'``: status, rc, every event, stdout, and the ``playbook_on_stats``
  event's ``artifact_data`` (where ``set_stats`` lands; AWX keeps it as the job's artifacts).

The EE container runs with AWX's container options (``--user=root`` and the network option) and the
"paths to expose to isolated jobs" mounted at the same path (``:z``), which is how a persistent folder
(the fleet's PKI) reaches a job.

    with ReceptorNode(scratch) as node:
        controller = Controller(node, image, checkout(scratch / "checkout"), scratch / "jobs",
                                ssh_key=key, isolation_paths=[fleet_dir])
        result = controller.run(Job(playbook="playbooks/site.yml", inventory=awx_inventory(data)))
        result.status, result.rc, result.artifact_data, result.changed()
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from testbed import podman_env

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = REPO / ".venv" / "bin"
RECEPTOR_SCRIPT = REPO / "scripts" / "receptor.py"
# The work type AWX submits to an execution node.
WORK_TYPE = "ansible-runner"
# AWX's DEFAULT_CONTAINER_RUN_OPTIONS is ["--network", "slirp4netns:enable_ipv6=true"] (rootless podman);
# see NETWORK for the one these tests use.
AWX_NETWORK = "slirp4netns:enable_ipv6=true"
# As root here: slirp4netns too (AWX's default; the EE reaches the bed's hosts through this machine's
# routes, as an AWX execution node reaches its targets). Override with PROMFLEET_AWX_NETWORK (e.g. host).
NETWORK = os.environ.get("PROMFLEET_AWX_NETWORK", AWX_NETWORK)
# AWX's settings of a job that has no timeout (the job template's 0).
SETTINGS = {"job_timeout": 0, "suppress_ansible_output": True, "suppress_output_file": True}
# Host variables AWX adds to every host of the inventory script (remote_tower_id is popped again by
# RunJob.build_inventory before the script is written: it maps events to hosts on the AWX side).
TOWER_HOST_VARS = ("remote_tower_enabled", "remote_host_enabled", "remote_host_id")
# Host variables that name a file of the controller, which does not exist in the EE: the machine
# credential (env/ssh_key) replaces them.
HOST_PATH_VARS = ("ansible_ssh_private_key_file", "ansible_private_key_file")
RUN_TIMEOUT = 900


# A datacenter of the tests' bed that their inventory does not have: the add-a-datacenter job's survey
# names it (tests/awx/test_add_datacenter_job.py).
NEW_SITE = {"dc3": ["dc3-prom-a"]}


class AWXError(RuntimeError):
    """A step of the chain failed (receptor, the transmit, the work unit); the message says which."""


def receptor_binary() -> Path:
    """The receptor binary of scripts/receptor.py (fetched into the cache when missing)."""
    done = subprocess.run([sys.executable, str(RECEPTOR_SCRIPT)], capture_output=True, text=True,
                          check=False, timeout=300)
    if done.returncode != 0:
        raise AWXError("scripts/receptor.py failed: %s" % (done.stdout + done.stderr).strip()[-2000:])
    return Path(done.stdout.strip().splitlines()[-1])


# --- receptor ------------------------------------------------------------------------------------

class ReceptorNode:
    """A receptor node configured as AWX configures an execution node; a context manager.

    ``root`` is a scratch folder of its own (config, control socket, work units, log).
    """

    def __init__(self, root: Path, node_id: str = "awx-execution-node", port: int | None = None) -> None:
        self.root = Path(root)
        self.node_id = node_id
        self.port = port
        self.process: subprocess.Popen | None = None
        self.seconds = 0.0

    @property
    def socket_path(self) -> Path:
        return self.root / "receptor.sock"

    @property
    def log_path(self) -> Path:
        return self.root / "receptor.log"

    def config(self) -> list[dict]:
        return [
            {"node": {"id": self.node_id, "datadir": str(self.root / "data")}},
            {"log-level": "info"},
            {"control-service": {"service": "control", "filename": str(self.socket_path), "permissions": "0600"}},
            {"tcp-listener": {"bindaddr": "127.0.0.1", "port": self.port}},
            {"work-command": {"worktype": WORK_TYPE, "command": "ansible-runner", "params": "worker",
                              "allowruntimeparams": True}},
        ]

    @staticmethod
    def environment() -> dict:
        """podman's CONTAINERS_CONF (this VM), and the virtualenv first on PATH (ansible-runner)."""
        env = dict(podman_env())
        env["PATH"] = "%s:%s" % (VENV_BIN, env.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"))
        return env

    def __enter__(self) -> ReceptorNode:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self, timeout: float = 20) -> None:
        started = time.monotonic()
        self.root.mkdir(parents=True, exist_ok=True)
        if self.port is None:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                self.port = probe.getsockname()[1]
        conf = self.root / "receptor.conf"
        conf.write_text(yaml.safe_dump(self.config(), sort_keys=False))
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen([str(receptor_binary()), "--config", str(conf)], cwd=self.root,
                                            env=self.environment(), stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AWXError("receptor exited (rc=%s): %s" % (self.process.returncode, self.log()))
            with contextlib.suppress(OSError, RuntimeError, ValueError):
                if self.node_id in json.dumps(self.command("status")):
                    self.seconds = time.monotonic() - started
                    return
            time.sleep(0.1)
        raise AWXError("receptor did not answer on %s within %.0f s: %s" % (self.socket_path, timeout, self.log()))

    def stop(self) -> None:
        """SIGTERM, then SIGKILL; its work units' processes (the worker, podman) belong to its session."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, 9)  # a worker left behind
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text()[-3000:] if self.log_path.exists() else ""

    def control(self):
        """A receptorctl client on the control socket (as AWX's get_receptor_ctl)."""
        from receptorctl.socket_interface import ReceptorControl  # noqa: PLC0415 - only where jobs run

        return ReceptorControl(str(self.socket_path))

    def command(self, line: str) -> dict:
        ctl = self.control()
        try:
            return ctl.simple_command(line)
        finally:
            ctl.close()


# --- the project ---------------------------------------------------------------------------------

def git(*args: str, cwd: Path) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "promfleet tests", "GIT_AUTHOR_EMAIL": "tests@promfleet.invalid",
           "GIT_COMMITTER_NAME": "promfleet tests", "GIT_COMMITTER_EMAIL": "tests@promfleet.invalid"}
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        raise AWXError("git %s failed: %s" % (" ".join(args), (done.stdout + done.stderr).strip()))
    return done.stdout


def checkout(destination: Path, source: Path = REPO) -> str:
    """A git repository at ``destination`` holding ``source``'s work tree as a commit would (tracked and
    untracked files that are not ignored, symlinks as symlinks), committed; its revision."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=source,
                            capture_output=True, check=True).stdout
    paths = [p for p in listed.split(b"\0") if p and os.path.lexists(source / os.fsdecode(p))]
    shutil.rmtree(destination, ignore_errors=True)
    destination.mkdir(parents=True)
    # tar keeps symlinks as symlinks (collections/ansible_collections/promfleet/federation -> ../../..)
    packed = subprocess.run(["tar", "-C", str(source), "--null", "--no-recursion", "-T", "-", "-cf", "-"],
                            input=b"\0".join(paths), capture_output=True, check=True).stdout
    subprocess.run(["tar", "-C", str(destination), "-xf", "-"], input=packed, check=True)
    git("init", "-q", "-b", "main", cwd=destination)
    git("add", "-A", cwd=destination)
    git("commit", "-q", "-m", "work tree of %s" % source, cwd=destination)
    return git("rev-parse", "HEAD", cwd=destination).strip()


# --- the inventory -------------------------------------------------------------------------------

def awx_inventory(data: Mapping, group_vars: Mapping | None = None) -> dict:
    """``data`` (an Ansible YAML inventory as a dict: ``all`` with ``vars``, ``children``, ``hosts``)
    as AWX's inventory script prints it: every group at the top with its ``hosts`` (names), ``children``
    (names) and ``vars``; ``all`` with every group as a child and the hosts of no group; host variables
    under ``_meta.hostvars`` with AWX's ``remote_*`` keys, less the ones naming controller files
    (HOST_PATH_VARS). ``group_vars`` (group -> vars) are merged into the groups' own vars."""
    groups: dict[str, dict] = {}
    hostvars: dict[str, dict] = {}

    def visit(name: str, group: Mapping | None) -> None:
        group = group or {}
        info = groups.setdefault(name, {})
        for host, variables in (group.get("hosts") or {}).items():
            hostvars.setdefault(host, {}).update(variables or {})
            if name != "all":
                info.setdefault("hosts", []).append(host)
        for child, sub in (group.get("children") or {}).items():
            if name != "all":
                info.setdefault("children", []).append(child)
            visit(child, sub)
        if group.get("vars"):
            info.setdefault("vars", {}).update(group["vars"])

    visit("all", data["all"])
    for name, variables in (group_vars or {}).items():
        groups.setdefault(name, {}).setdefault("vars", {}).update(variables)
    grouped = {h for name, info in groups.items() if name != "all" for h in info.get("hosts", [])}
    script: dict = {"all": {}}
    if groups["all"].get("vars"):
        script["all"]["vars"] = groups["all"]["vars"]
    script["all"]["hosts"] = sorted(h for h in hostvars if h not in grouped)
    for name in sorted(groups):
        if name != "all" and groups[name]:
            script[name] = groups[name]
    script["all"]["children"] = sorted(n for n in groups if n != "all")
    ids = {host: index for index, host in enumerate(sorted(hostvars), start=1)}
    script["_meta"] = {"hostvars": {
        host: {**{k: v for k, v in variables.items() if k not in HOST_PATH_VARS},
               "remote_tower_enabled": "true", "remote_host_enabled": "true", "remote_host_id": ids[host]}
        for host, variables in sorted(hostvars.items())}}
    return script


def inventory_script(script_data: Mapping) -> str:
    """The executable inventory AWX writes to inventory/hosts (RunJob.build_inventory)."""
    return "#! /usr/bin/env python3\n# -*- coding: utf-8 -*-\nprint(%r)\n" % json.dumps(script_data)


# --- extra vars ----------------------------------------------------------------------------------

class _UnsafeDumper(yaml.SafeDumper):
    """Every string (keys too) tagged ``!unsafe``, as AWX's safe_dump: Ansible never templates them."""


_UnsafeDumper.add_representer(str, lambda dumper, value: dumper.represent_scalar("!unsafe", value))


def unsafe_yaml(variables: Mapping) -> str:
    return yaml.dump(dict(variables), Dumper=_UnsafeDumper, default_flow_style=False, sort_keys=False)


class _UnsafeLoader(yaml.SafeLoader):
    """Reads env/extravars back: ``!unsafe`` scalars as ``Unsafe`` strings (to tell them apart)."""


class Unsafe(str):
    """A string that was tagged ``!unsafe``."""


_UnsafeLoader.add_constructor("!unsafe", lambda loader, node: Unsafe(loader.construct_scalar(node)))


def load_extravars(path: Path) -> dict:
    return yaml.load(path.read_text(), Loader=_UnsafeLoader)  # a SafeLoader with one more tag


# --- jobs ----------------------------------------------------------------------------------------

@dataclass
class Job:
    """What AWX knows of a job when it starts it: the job template's playbook (a path in the project),
    the inventory (script data, ``awx_inventory``), extra vars and survey answers, a limit."""

    playbook: str
    inventory: dict
    extra_vars: dict = field(default_factory=dict)
    survey: dict = field(default_factory=dict)
    limit: str = ""
    name: str = "promfleet site"
    inventory_name: str = "promfleet bed"
    launch_type: str = "manual"


@dataclass
class JobResult:
    job_id: int
    status: str
    rc: int | None
    events: list[dict]
    stdout: str
    artifact_data: dict
    private_data_dir: Path
    seconds: float
    unit_id: str = ""
    detail: str = ""

    @property
    def stats(self) -> dict:
        """The ``playbook_on_stats`` event's data (per counter: host -> count)."""
        found = [e for e in self.events if e.get("event") == "playbook_on_stats"]
        return found[-1]["event_data"] if found else {}

    def changed(self) -> dict[str, int]:
        return dict(self.stats.get("changed") or {})

    def failures(self) -> str:
        """What went wrong, for an assertion message: the failed events and the end of stdout."""
        failed = [e for e in self.events if e.get("event") in ("runner_on_failed", "runner_on_unreachable")
                  and not e.get("event_data", {}).get("ignore_errors")]
        lines = ["%s %s: %s" % (e["event"], e["event_data"].get("host"),
                                json.dumps(e["event_data"].get("res", {}))[:1500]) for e in failed]
        return "status=%s rc=%s %s\n%s\n--- stdout (end) ---\n%s" % (
            self.status, self.rc, self.detail, "\n".join(lines), self.stdout[-6000:])


class Controller:
    """AWX's part: job directories built as AWX builds them, submitted through a receptor node.

    ``image``: the execution environment; ``project``: the checkout (``checkout``) with its ``revision``;
    ``jobs``: where job directories are made (AWX_ISOLATION_BASE_PATH); ``ssh_key``: the machine
    credential's private key; ``isolation_paths``: AWX_ISOLATION_SHOW_PATHS (host folders the EE sees
    at the same path).
    """

    def __init__(self, node: ReceptorNode, image: str, project: Path, revision: str, jobs: Path,
                 ssh_key: Path, isolation_paths: list[Path] | None = None, network: str = NETWORK,
                 keep: bool = True) -> None:
        self.node = node
        self.image = image
        self.project = Path(project)
        self.revision = revision
        self.jobs = Path(jobs)
        self.ssh_key = Path(ssh_key)
        self.isolation_paths = [Path(p) for p in isolation_paths or []]
        self.network = network
        self.keep = keep  # the controller's job directories stay for inspection (the worker's are deleted)
        self.jobs.mkdir(parents=True, exist_ok=True)
        # Job ids (ansible-runner's ident, its container ansible_runner_<id>) of this process only.
        self._ids = itertools.count((os.getpid() % 100000) * 100 + 1)
        self.job_ids: list[int] = []

    # --- the job directory -------------------------------------------------------------------

    def meta_vars(self, job: Job, job_id: int) -> dict:
        """awx_meta_vars(): the variables AWX adds to every job's extra vars, once as awx_*, once as tower_*."""
        values = {
            "job_id": job_id, "job_launch_type": job.launch_type, "execution_node": self.node.node_id,
            "user_id": 1, "user_name": "admin", "user_email": "admin@promfleet.invalid",
            "user_first_name": "", "user_last_name": "",
            "inventory_id": 1, "inventory_name": job.inventory_name,
            "project_revision": self.revision, "project_scm_branch": "main",
            "job_template_id": 7, "job_template_name": job.name,
        }
        return {"%s_%s" % (prefix, key): value for prefix in ("awx", "tower") for key, value in values.items()}

    def envvars(self, job_id: int, private_data_dir: Path) -> dict:
        """RunJob.build_env: AWX's ANSIBLE_* settings, the job's ids, the content paths (the project's
        ansible.cfg says collections_path = ./collections)."""
        return {
            "ANSIBLE_FORCE_COLOR": "True",
            "ANSIBLE_HOST_KEY_CHECKING": "False",
            "ANSIBLE_INVENTORY_UNPARSED_FAILED": "True",
            "ANSIBLE_PARAMIKO_RECORD_HOST_KEYS": "False",
            "AWX_PRIVATE_DATA_DIR": str(private_data_dir),
            "JOB_ID": str(job_id),
            "INVENTORY_ID": "1",
            "PROJECT_REVISION": self.revision,
            "ANSIBLE_RETRY_FILES_ENABLED": "False",
            "MAX_EVENT_RES": "700000",
            "AWX_HOST": "https://awx.promfleet.invalid",
            "ANSIBLE_SSH_CONTROL_PATH_DIR": "/runner/cp",
            "ANSIBLE_COLLECTIONS_PATH": "/runner/requirements_collections:./collections:"
                                        "~/.ansible/collections:/usr/share/ansible/collections",
            "ANSIBLE_ROLES_PATH": "/runner/requirements_roles:~/.ansible/roles:/usr/share/ansible/roles:"
                                  "/etc/ansible/roles",
        }

    def cmdline(self, job: Job) -> list[str]:
        """RunJob.build_args with a machine credential of user root, no become."""
        args = ["-u", "root"]
        if job.limit:
            args += ["-l", job.limit]
        return args

    def prepare(self, job: Job, job_id: int) -> Path:
        """The private_data_dir of ``job`` (BaseTask.build_private_data_dir and the build_* steps)."""
        private_data_dir = self.jobs / ("awx_%d_job" % job_id)
        shutil.rmtree(private_data_dir, ignore_errors=True)
        private_data_dir.mkdir(mode=0o700)
        for sub in ("inventory", "env"):
            (private_data_dir / sub).mkdir()
        subprocess.run(["cp", "-a", str(self.project), str(private_data_dir / "project")], check=True)
        (private_data_dir / "cp").mkdir(mode=0o700)
        key = private_data_dir / "env" / "ssh_key"
        key.write_text(self.ssh_key.read_text().rstrip("\n") + "\n")
        key.chmod(stat.S_IRUSR | stat.S_IWUSR)
        extra = {**self.meta_vars(job, job_id), **job.extra_vars, **job.survey}
        extravars = private_data_dir / "env" / "extravars"
        extravars.write_text(unsafe_yaml(extra))
        extravars.chmod(stat.S_IRUSR)
        from ansible_runner.utils import args2cmdline  # noqa: PLC0415

        cmdline = private_data_dir / "env" / "cmdline"
        cmdline.write_text(args2cmdline(*self.cmdline(job)))
        cmdline.chmod(stat.S_IRUSR)
        hosts = private_data_dir / "inventory" / "hosts"
        hosts.write_text(inventory_script(job.inventory))
        hosts.chmod(stat.S_IRUSR | stat.S_IWUSR | stat.S_IXUSR)
        return private_data_dir

    def runner_params(self, job: Job, job_id: int, private_data_dir: Path) -> dict:
        """The parameters of ansible_runner.interface.run: BaseTask.run's and build_execution_environment_params'."""
        return {
            "ident": job_id,
            "private_data_dir": str(private_data_dir),
            "playbook": job.playbook,
            "inventory": str(private_data_dir / "inventory" / "hosts"),
            "envvars": self.envvars(job_id, private_data_dir),
            "settings": dict(SETTINGS),
            "fact_cache_type": "",
            "container_image": self.image,
            "process_isolation": True,
            "process_isolation_executable": "podman",
            "container_options": ["--user=root", "--network", self.network],
            "container_volume_mounts": self.volume_mounts(),
        }

    def volume_mounts(self) -> list[str]:
        """AWX_ISOLATION_SHOW_PATHS as build_execution_environment_params mounts them: same path, ``:z``."""
        return ["%s:%s:z" % (path, path) for path in self.isolation_paths]

    # --- submission --------------------------------------------------------------------------

    def run(self, job: Job, timeout: float = RUN_TIMEOUT) -> JobResult:
        """Run ``job`` through receptor as AWXReceptorJob does; the result whatever the job's outcome."""
        import ansible_runner  # noqa: PLC0415

        job_id = next(self._ids)
        self.job_ids.append(job_id)
        started = time.monotonic()
        private_data_dir = self.prepare(job, job_id)
        params = self.runner_params(job, job_id, private_data_dir)
        # The execution node's own copy: AWX sends the same path to a remote node; on this one machine the
        # worker gets a folder of its own, deleted when it is done (--delete, as AWX_CLEANUP_PATHS asks).
        worker_dir = self.jobs / "worker" / private_data_dir.name
        worker_dir.parent.mkdir(parents=True, exist_ok=True)
        ctl = self.node.control()
        unit_id = ""
        try:
            sockin, sockout = socket.socketpair()

            def transmit() -> None:
                try:
                    ansible_runner.interface.run(streamer="transmit", _output=sockin.makefile("wb"), **params)
                finally:
                    sockin.shutdown(socket.SHUT_WR)

            with ThreadPoolExecutor(max_workers=1) as pool:
                transmitted = pool.submit(transmit)
                submitted = ctl.submit_work(worktype=WORK_TYPE, payload=sockout.makefile("rb"), node=self.node.node_id,
                                            params={"params": "--private-data-dir=%s --delete" % worker_dir})
                sockin.close()
                sockout.close()
            transmitted.result()
            unit_id = submitted["unitid"]
            # AWXReceptorJob: the artifacts come back with the results; the transmitted ones go.
            shutil.rmtree(private_data_dir / "artifacts", ignore_errors=True)
            events: list[dict] = []
            artifacts: list[str] = []
            statuses: list[dict] = []
            results_ctl = self.node.control()
            resultsock, resultfile = results_ctl.get_work_results(unit_id, return_socket=True, return_sockfile=True)
            timer = threading.Timer(timeout, lambda: resultsock.shutdown(socket.SHUT_RDWR))
            timer.start()
            try:
                processed = ansible_runner.interface.run(
                    streamer="process", quiet=True, _input=resultfile,
                    event_handler=lambda event: events.append(event) or True,
                    artifacts_handler=artifacts.append,
                    status_handler=lambda data, runner_config=None: statuses.append(data),
                    **params)
            finally:
                timer.cancel()
                resultfile.close()
                results_ctl.close()
            status, rc = processed.status, processed.rc
            # The processor does not set rc (AWX's neither): it comes back in the artifacts.
            rc_file = private_data_dir / "artifacts" / str(job_id) / "rc"
            if rc is None and rc_file.exists():
                rc = int(rc_file.read_text().strip())
            detail = ""
            if status not in ("successful", "failed"):
                unit = self.node.command("work status %s" % unit_id)
                detail = "receptor: %s %s" % (unit.get("StateName"), unit.get("Detail"))
            stats = [e for e in events if e.get("event") == "playbook_on_stats"]
            return JobResult(
                job_id=job_id, status=status, rc=rc, events=events,
                stdout="\n".join(e["stdout"] for e in sorted(events, key=lambda e: e.get("counter", 0))
                                 if e.get("stdout")),
                artifact_data=dict(stats[-1]["event_data"].get("artifact_data") or {}) if stats else {},
                private_data_dir=private_data_dir, seconds=time.monotonic() - started, unit_id=unit_id,
                detail=detail)
        finally:
            ctl.close()
            if unit_id:
                with contextlib.suppress(Exception):
                    self.node.command("work release %s" % unit_id)
            shutil.rmtree(worker_dir, ignore_errors=True)
            if not self.keep:
                shutil.rmtree(private_data_dir, ignore_errors=True)

    def remove_containers(self) -> None:
        """The EE containers of this controller's jobs that a killed worker left (``ansible_runner_<id>``)."""
        env = podman_env()
        names = set(subprocess.run(["podman", "ps", "--all", "--format", "{{.Names}}"], capture_output=True,
                                   text=True, env=env, check=False).stdout.split())
        ours = [n for n in ("ansible_runner_%d" % i for i in self.job_ids) if n in names]
        if ours:
            subprocess.run(["podman", "rm", "--force", *ours], capture_output=True, env=env, check=False)


@contextlib.contextmanager
def scratch(prefix: str = "pfa-awx-") -> Iterator[Path]:
    """A scratch folder removed afterwards (also when the job directories hold read-only files)."""
    import tempfile  # noqa: PLC0415

    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        subprocess.run(["rm", "-rf", str(path)], check=False)

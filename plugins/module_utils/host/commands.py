# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""The one way the collection runs an external command on a host: ``run``.

Arguments are a list (never a shell string), output is captured (stdout and stderr together, as a
person would see them), a timeout always applies, and a failure is a ``CommandError`` whose message
holds the command and its output. Commands that report errors on a zero exit code (supervisorctl)
name the markers that betray them.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from dataclasses import dataclass

from ansible_collections.promfleet.federation.plugins.module_utils.errors import CommandError

DEFAULT_TIMEOUT = 120


@dataclass(frozen=True)
class CommandResult:
    """What a command did: its argument list, exit code and output (stdout and stderr together)."""

    argv: tuple
    rc: int
    output: str

    @property
    def ok(self) -> bool:
        return self.rc == 0

    @property
    def command_line(self) -> str:
        return " ".join(shlex.quote(arg) for arg in self.argv)


def run(argv, timeout: float = DEFAULT_TIMEOUT, check: bool = True, error_markers: tuple = (),
        env: dict | None = None) -> CommandResult:
    """Run ``argv`` and return its result.

    With ``check`` a non-zero exit code, or output containing one of ``error_markers``, raises
    CommandError; a command that cannot be started or does not finish within ``timeout`` seconds
    always does. ``env`` is added to the environment (``LC_ALL=C`` always is, so that output can be
    parsed).
    """
    argv = tuple(str(arg) for arg in argv)
    environment = dict(os.environ)
    environment["LC_ALL"] = "C"
    environment.update(env or {})
    try:
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout,
                              env=environment, check=False)
    except subprocess.TimeoutExpired:
        raise CommandError("%s did not finish within %g s" % (_line(argv), timeout)) from None
    except OSError as exc:
        raise CommandError("%s cannot be run: %s" % (_line(argv), exc.strerror or exc)) from None
    result = CommandResult(argv, done.returncode, done.stdout.decode("utf-8", errors="replace"))
    if check and (not result.ok or any(marker in result.output for marker in error_markers)):
        raise failure(result)
    return result


def failure(result: CommandResult) -> CommandError:
    """The CommandError that tells what ``result``'s command did wrong."""
    return CommandError("%s failed (rc=%d): %s" % (result.command_line, result.rc,
                                                   " ".join(result.output.split()) or "no output"))


def _line(argv) -> str:
    return " ".join(shlex.quote(arg) for arg in argv)

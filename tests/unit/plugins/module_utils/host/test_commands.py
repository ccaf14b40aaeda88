"""The one way to run a command (``host/commands.py``): output captured, failures explained."""

from __future__ import annotations

import pytest

from ansible_collections.promfleet.federation.plugins.module_utils.errors import CommandError
from ansible_collections.promfleet.federation.plugins.module_utils.host.commands import run


def test_output_of_stdout_and_stderr_and_the_exit_code_are_returned():
    done = run(["sh", "-c", "echo out; echo err >&2"])
    assert (done.ok, done.rc, done.output) == (True, 0, "out\nerr\n")


def test_a_failure_names_the_command_and_its_output():
    with pytest.raises(CommandError, match=r"^sh -c 'echo broken; exit 3' failed \(rc=3\): broken$"):
        run(["sh", "-c", "echo broken; exit 3"])


def test_without_check_a_failure_is_returned():
    assert run(["sh", "-c", "exit 4"], check=False).rc == 4


def test_an_error_marker_fails_a_command_that_exits_0():
    with pytest.raises(CommandError, match="ERROR"):
        run(["echo", "prom: ERROR (no such process)"], error_markers=("ERROR",))


def test_a_missing_command_and_a_timeout_are_errors():
    with pytest.raises(CommandError, match="^/nowhere/tool cannot be run: "):
        run(["/nowhere/tool"])
    with pytest.raises(CommandError, match="^sleep 5 did not finish within 0.2 s$"):
        run(["sleep", "5"], timeout=0.2)


def test_the_locale_is_c_so_that_output_can_be_parsed():
    assert run(["sh", "-c", "echo $LC_ALL"]).output == "C\n"

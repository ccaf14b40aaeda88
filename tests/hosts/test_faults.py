"""Faults of real machines, bounded to the bed: a datacenter cut off mid-run, a Prometheus killed
(SIGKILL) while its configuration is written, an ansible-playbook run interrupted halfway.

After each, the next run of site.yml converges and nothing is lost: the data, the configuration on
disk (valid, and the one the server runs), the federation of every datacenter at the global.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.parse

from bedfleet import GLOBAL, HOSTS, SERVER, SERVER2, UNIT, eventually, unit_state

CONFIG = {host: "/etc/promfleet/%s/prometheus.yml" % UNIT[host] for host in (SERVER, SERVER2, GLOBAL)}
DOWN_ALERT = 'ALERTS{alertname="FederationDatacenterDown", datacenter="dc2", alertstate="firing"}'
# How long a background run may take, and how long it gets to stop after SIGINT.
RUN_TIMEOUT = 600
INTERRUPT_GRACE = 60


def config_on_disk(bed, host: str) -> str:
    return bed.run(host, ["cat", CONFIG[host]]).stdout


def running_config(converged, host: str) -> str:
    return converged.get_json(host, "/api/v1/status/config")["data"]["yaml"]


def unreachable_hosts(output: str) -> set[str]:
    """Hosts Ansible reported UNREACHABLE (``fatal: [host]: UNREACHABLE!``)."""
    return set(re.findall(r"^fatal: \[([^\]]+)\]: UNREACHABLE!", output, re.M))


def finish(process: subprocess.Popen, timeout: float = RUN_TIMEOUT) -> int:
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise


def wait_on_host(bed, host: str, condition: str, then: str = "true", timeout: float = 300) -> str:
    """Run on ``host`` a shell loop that polls ``condition`` every 50 ms and, the moment it holds,
    runs ``then``; its output. Fails when the condition never holds."""
    loop = ("end=$(($(date +%%s) + %d)); while [ $(date +%%s) -lt $end ]; do if %s; then %s; exit 0; fi; "
            "sleep 0.05; done; echo 'timed out' >&2; exit 1") % (timeout, condition, then)
    return bed.run(host, loop, timeout=timeout + 30).stdout


def test_a_datacenter_cut_off_mid_run_fails_the_run_naming_it_and_comes_back_whole(converged):
    bed = converged.bed
    eventually(lambda: converged.federated_datacenters() == {"dc1", "dc2"}, what="both datacenters federated")
    before_config, before_unit = config_on_disk(bed, SERVER2), unit_state(bed, SERVER2)
    sample_time = time.time()
    assert converged.query(SERVER2, 'up{job="prometheus"}'), "dc2 has no sample of its own yet"

    bed.cut(SERVER2)
    try:
        cut_run = converged.run(check=False, timing="site.yml, dc2 cut off")
        # The global tells: its federation alert for dc2 fires, and dc1 is still federated.
        eventually(lambda: converged.query(GLOBAL, DOWN_ALERT), timeout=90, what="FederationDatacenterDown for dc2")
        assert "dc1" in converged.federated_datacenters()
    finally:
        bed.restore(SERVER2)
    assert cut_run.returncode != 0
    assert unreachable_hosts(cut_run.output) == {SERVER2}, cut_run.output[-6000:]
    recap = cut_run.recap()
    assert recap[SERVER2]["unreachable"] >= 1
    for host in set(HOSTS) - {SERVER2}:
        assert recap[host].get("failed", 0) == 0 and recap[host].get("unreachable", 0) == 0, (
            host, recap, cut_run.output[-6000:])

    converged.run(timing="site.yml, dc2 back")
    eventually(lambda: converged.federated_datacenters() == {"dc1", "dc2"}, what="dc2 federated again")
    eventually(lambda: not converged.query(GLOBAL, DOWN_ALERT), timeout=90, what="the alert for dc2 resolved")
    # Nothing lost: the same configuration and process, its TSDB with the samples from before the cut.
    assert config_on_disk(bed, SERVER2) == before_config
    after_unit = unit_state(bed, SERVER2)
    assert (after_unit["MainPID"], after_unit["NRestarts"]) == (before_unit["MainPID"], before_unit["NRestarts"])
    old = converged.get_json(SERVER2, "/api/v1/query?" + urllib.parse.urlencode(
        {"query": 'up{job="prometheus"}', "time": "%.3f" % sample_time}))["data"]["result"]
    assert old and old[0]["value"][1] == "1", old
    assert float(converged.query(SERVER2, "prometheus_tsdb_head_series")[0]["value"][1]) > 0


def test_a_prometheus_killed_while_its_config_is_written_converges_on_the_next_run(converged):
    bed = converged.bed
    pid = unit_state(bed, SERVER)["MainPID"]
    converged.server_vars["prometheus_external_labels"] = {"fault": "sigkill"}
    process = converged.start("sigkill-run")
    try:
        # The moment the new content appears in the server's configuration folder (staged or in
        # place), before the reload: SIGKILL its Prometheus.
        killed = wait_on_host(bed, SERVER, "grep -rqs 'fault: sigkill' %s" % os.path.dirname(CONFIG[SERVER]),
                              then="kill -9 %s && echo killed" % pid)
        assert killed.strip() == "killed"
    finally:
        finish(process)  # failed or not: either is fine, the next run must converge
    assert eventually(lambda: unit_state(bed, SERVER)["MainPID"] not in ("0", pid), what="systemd restarting it")

    converged.run(timing="site.yml after SIGKILL")
    state = unit_state(bed, SERVER)
    assert state["ActiveState"] == "active"
    promtool = bed.run(SERVER, "ls /opt/promfleet/prometheus-*/promtool | head -n1").stdout.strip()
    assert promtool, "no promtool under /opt/promfleet"
    checked = bed.run(SERVER, [promtool, "check", "config", CONFIG[SERVER]], check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "fault: sigkill" in config_on_disk(bed, SERVER)
    eventually(lambda: "fault: sigkill" in running_config(converged, SERVER), what="the server running the new config")


def test_an_interrupted_run_converges_when_run_again_and_then_changes_nothing(converged):
    bed = converged.bed
    for host in (SERVER, SERVER2):
        converged.host_vars[host]["prometheus_external_labels"] = {"fault": "interrupted"}
    process = converged.start("interrupted-run")
    try:
        # Some host changed: the first of the two configurations written.
        wait_on_host(bed, SERVER, "grep -qs 'fault: interrupted' %s" % CONFIG[SERVER], timeout=RUN_TIMEOUT)
    finally:
        os.killpg(process.pid, signal.SIGINT)  # Ctrl-C at a terminal
        try:
            interrupted_rc = process.wait(timeout=INTERRUPT_GRACE)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGTERM)
            interrupted_rc = finish(process, timeout=INTERRUPT_GRACE)
    assert interrupted_rc != 0, converged.background_output("interrupted-run")[-4000:]

    second = converged.run(timing="site.yml after an interrupted run")
    assert second.returncode == 0
    for host in (SERVER, SERVER2):
        eventually(lambda host=host: "fault: interrupted" in running_config(converged, host),
                   what="%s running the new config" % host)
    third = converged.run()
    assert third.changed() == 0, json.dumps(third.recap()) + third.output[-4000:]

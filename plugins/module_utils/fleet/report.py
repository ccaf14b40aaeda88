# Copyright: promfleet maintainers
# Apache License 2.0 (see LICENSE)
"""Whether a converged federation works, as ``playbooks/verify.yml`` reports it.

Pure functions over plain data: the topology (``topology.build_topology``) and what each server
answered (``observation``), to the verdict (``evaluate``), the table printed at the end of a run
(``render_table``) and pictures of the topology (``render_mermaid``, ``render_svg``).

A global passes for a datacenter when `up` of that datacenter is there with its ``datacenter``
label and the newest such sample is younger than two federation intervals: one interval is the
normal age of a federated sample, a second one allows for one slow or missed scrape.
"""

from __future__ import annotations

import os
import re
from xml.sax.saxutils import escape

from ansible_collections.promfleet.federation.plugins.module_utils.errors import ReportError
from ansible_collections.promfleet.federation.plugins.module_utils.fleet.topology import FRESHNESS_INTERVALS
from ansible_collections.promfleet.federation.plugins.module_utils.host.files import FileAttributes, atomic_write

# Always firing by design (the dead man's switch): not a problem to show.
WATCHDOG = "Watchdog"


def observation(targets: dict | None = None, query_result: dict | None = None, max_age: float | None = None,
                error: str | None = None, alerts: dict | None = None) -> dict:
    """What one server answered: its targets (``/api/v1/targets`` data), for a global the answer to
    the age query of verify.yml and the largest age allowed, the answer to the query of its firing
    alerts (``ALERTS{alertstate="firing"}``), or the error that kept it from answering."""
    if error:
        return {"error": str(error)}
    active = (targets or {}).get("activeTargets") or []
    by_instance: dict = {}
    for target in active:
        counts = by_instance.setdefault(str((target.get("labels") or {}).get("instance", "")), [0, 0])
        counts[0] += target.get("health") == "up"
        counts[1] += 1
    seen = {
        "targets_up": sum(1 for t in active if t.get("health") == "up"),
        "targets_total": len(active),
        # [up, total] per instance label: a watched machine's targets carry its inventory name
        "instances": by_instance,
    }
    if query_result is not None:
        seen["federation_ages"] = federation_ages(query_result)
        seen["max_age"] = float(max_age) if max_age is not None else None
    if alerts is not None:
        seen["alerts"] = firing_alerts(alerts)
    return seen


def firing_alerts(query_result: dict) -> list:
    """``[{"alertname", "datacenter"}]`` (sorted, without duplicates) from the instant-vector answer
    to ``ALERTS{alertstate="firing"}``; ``datacenter`` is None for an alert without the label."""
    found = set()
    for sample in (query_result or {}).get("result") or []:
        metric = sample.get("metric") or {}
        found.add((str(metric.get("alertname", "")), metric.get("datacenter")))
    return [{"alertname": name, "datacenter": dc} for name, dc in sorted(found, key=lambda a: (a[0], a[1] or ""))]


def _alerts_cell(dc_name: str | None, servers: list, globals_: list, observations: dict) -> str:
    """The alerts firing for a datacenter (at its servers, and at the globals with its label), or
    for the globals themselves (``dc_name`` None: their alerts without a datacenter label)."""
    names = set()
    for server in servers:
        names |= {a["alertname"] for a in (observations.get(server["name"]) or {}).get("alerts") or []}
    for glob in globals_:
        names |= {a["alertname"] for a in (observations.get(glob["name"]) or {}).get("alerts") or []
                  if a["datacenter"] == dc_name}
    names.discard(WATCHDOG)
    return ", ".join(sorted(names)) or "-"


def alertmanager_observation(status: dict | None = None, error: str | None = None) -> dict:
    """What one Alertmanager answered at ``/api/v2/status``: the names of the peers it sees in its
    cluster and the cluster's status, or the error that kept it from answering."""
    if error:
        return {"error": str(error)}
    cluster = (status or {}).get("cluster") or {}
    return {"peers": sorted(str(p.get("name", "")) for p in cluster.get("peers") or []),
            "cluster_status": str(cluster.get("status", ""))}


def _cluster_row(name: str, cluster: dict, observations: dict) -> tuple:
    """(row, failures) of one Alertmanager cluster: every member must answer and see every member."""
    members = cluster["members"]
    failures, seeing = [], []
    for member in members:
        seen = observations.get(member)
        if seen is None:
            failures.append("Alertmanager %s of cluster %s was not reached in this run" % (member, name))
        elif "error" in seen:
            failures.append("Alertmanager %s of cluster %s does not answer: %s" % (member, name, seen["error"]))
        else:
            seeing.append(len(seen["peers"]))
            if len(seen["peers"]) < len(members):
                failures.append("Alertmanager %s of cluster %s sees %d of its %d peers (%s): notifications may be "
                                "sent twice" % (member, name, len(seen["peers"]), len(members),
                                                seen.get("cluster_status") or "no status"))
    peers = "%d/%d in cluster" % (min(seeing), len(members)) if len(seeing) == len(members) else "-"
    return {"datacenter": "(alertmanagers %s)" % name, "servers": ", ".join(members), "watched": "",
            "targets": peers, "alerts": "", "federation": {}, "ok": not failures}, failures


def federation_ages(query_result: dict) -> dict:
    """``{datacenter: seconds}`` from the instant-vector answer to the age query of verify.yml,
    ``time() - max by (datacenter) (timestamp(up{...}))``."""
    ages = {}
    for sample in (query_result or {}).get("result") or []:
        datacenter = (sample.get("metric") or {}).get("datacenter")
        try:
            ages[datacenter] = max(0.0, float(sample["value"][1]))
        except (KeyError, IndexError, TypeError, ValueError):
            raise ReportError("not an instant vector sample: %r" % (sample,)) from None
    return ages


def _format_age(age: float) -> str:
    return "%.1f s" % age


def _federation_cell(seen: dict | None, datacenter: str) -> tuple:
    """(text, failure or None) for one datacenter at one global."""
    if seen is None:
        return "no answer", "was not reached in this run"
    if "error" in seen:
        return "no answer", "could not be asked: %s" % seen["error"]
    age = (seen.get("federation_ages") or {}).get(datacenter)
    if age is None:
        return "missing", "has no `up` of datacenter %s with its datacenter label" % datacenter
    limit = seen.get("max_age")
    if limit is not None and age >= limit:
        return "stale %s" % _format_age(age), (
            "has data of datacenter %s, but the newest `up` is %s old, not under %s (%d federation intervals)"
            % (datacenter, _format_age(age), _format_age(limit), FRESHNESS_INTERVALS))
    return _format_age(age), None


def federation_failures(topology: dict, seen: dict | None) -> list:
    """What is wrong with one global's observation: each datacenter missing, stale or not asked."""
    failures = []
    for dc in topology.get("datacenters") or []:
        failure = _federation_cell(seen, dc["name"])[1]
        if failure:
            failures.append(failure)
    return failures


def _targets_cell(servers: list, observations: dict) -> str:
    up = total = 0
    answered = False
    for server in servers:
        seen = observations.get(server["name"])
        if seen is None or "error" in seen:
            continue
        answered = True
        up += seen["targets_up"]
        total += seen["targets_total"]
    return "%d/%d" % (up, total) if answered else "-"


def _watched_cell(dc: dict, observations: dict) -> tuple:
    """(text, notes) for a datacenter's watched machines: how many have every target up at a server
    of the datacenter that answered. A machine whose targets are down is a note, not a failure: it
    is what alerting is for, not a fault of the federation."""
    machines = dc.get("watched") or []
    if not machines:
        return "-", []
    answered = [observations[s["name"]] for s in dc["servers"]
                if s["name"] in observations and "error" not in observations[s["name"]]]
    if not answered:
        return "%d (not asked)" % len(machines), []
    up, notes = 0, []
    for machine in machines:
        counts = [seen.get("instances", {}).get(machine["name"]) for seen in answered]
        best = max((c for c in counts if c), key=lambda c: (c[0] == c[1], c[0]), default=None)
        if best and best[0] == best[1]:
            up += 1
        elif best:
            notes.append("datacenter %s: watched machine %s has %d of %d targets up"
                         % (dc["name"], machine["name"], best[0], best[1]))
        else:
            notes.append("datacenter %s: watched machine %s has no target at its servers yet"
                         % (dc["name"], machine["name"]))
    return "%d/%d up" % (up, len(machines)), notes


def _servers_cell(servers: list, observations: dict) -> tuple:
    """(text, failures): server names, each not answering marked."""
    names, failures = [], []
    for server in servers:
        seen = observations.get(server["name"])
        if seen is None:
            names.append(server["name"] + " (not reached)")
            failures.append("server %s was not reached in this run (down, unreachable or failed earlier in the run)"
                            % server["name"])
        elif "error" in seen:
            names.append(server["name"] + " (no answer)")
            failures.append("server %s (%s) does not answer: %s" % (server["name"], server["url"], seen["error"]))
        else:
            names.append(server["name"])
    return ", ".join(names), failures


def evaluate(topology: dict, observations: dict) -> dict:
    """The verdict: ``ok``, ``failures`` (sentences naming the server, global and datacenter) and
    ``rows`` for the table, one per datacenter and one per global.

    ``observations`` maps inventory host names to ``observation`` results; a server without one
    was not reached in this run.
    """
    globals_ = topology.get("globals") or []
    failures, rows, notes = [], [], []
    for dc in topology.get("datacenters") or []:
        servers_text, server_failures = _servers_cell(dc["servers"], observations)
        watched_text, watched_notes = _watched_cell(dc, observations)
        notes += watched_notes
        failures += ["datacenter %s: %s" % (dc["name"], text) for text in server_failures]
        federation = {}
        fresh_everywhere = True
        for glob in globals_:
            text, failure = _federation_cell(observations.get(glob["name"]), dc["name"])
            federation[glob["name"]] = text
            fresh_everywhere = fresh_everywhere and failure is None
            # A global that did not answer is one failure of its own (below), not one per datacenter.
            if failure and glob["name"] in observations and "error" not in observations[glob["name"]]:
                failures.append("global %s %s" % (glob["name"], failure))
        rows.append({
            "datacenter": dc["name"],
            "servers": servers_text,
            "watched": watched_text,
            "alerts": _alerts_cell(dc["name"], dc["servers"], globals_, observations),
            "targets": _targets_cell(dc["servers"], observations),
            "federation": federation,
            "ok": not server_failures and fresh_everywhere,
        })
    for glob in globals_:
        servers_text, server_failures = _servers_cell([glob], observations)
        failures += ["global %s" % text[len("server "):] for text in server_failures]
        rows.append({
            "datacenter": "(global)",
            "servers": servers_text,
            "watched": "",
            "alerts": _alerts_cell(None, [], [glob], observations),
            "targets": _targets_cell([glob], observations),
            "federation": {g["name"]: "" for g in globals_},
            "ok": not server_failures,
        })
    for name, cluster in (topology.get("clusters") or {}).items():
        row, cluster_failures = _cluster_row(name, cluster, observations)
        rows.append(row)
        failures += cluster_failures
    return {"ok": not failures, "failures": failures, "notes": notes, "rows": rows}


def render_table(topology: dict, report: dict) -> str:
    """One plain-text table: datacenter, servers, targets up/total, federation age at each global."""
    global_names = [g["name"] for g in topology.get("globals") or []]
    alerting = any("alerts" in (row or {}) for row in report["rows"]) and bool(topology.get("clusters"))
    header = (["DATACENTER", "SERVERS", "WATCHED", "TARGETS UP"] + (["FIRING"] if alerting else [])
              + ["AGE AT %s" % name for name in global_names] + ["STATUS"])
    lines = [header]
    for row in report["rows"]:
        lines.append([row["datacenter"], row["servers"], row.get("watched", ""), row["targets"]]
                     + ([row.get("alerts", "")] if alerting else [])
                     + [row["federation"].get(name, "") for name in global_names]
                     + ["ok" if row["ok"] else "FAILED"])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in lines]
    verdict = ("federation verified: every global has fresh data of every datacenter" if report["ok"]
               else "federation NOT verified:\n" + "\n".join("  - " + failure for failure in report["failures"]))
    notes = ["note: " + note for note in report.get("notes") or []]
    return "\n".join(text + [""] + notes + [verdict])


# Up to this many watched machines of a datacenter are drawn one by one; more as one count.
WATCHED_DRAWN = 4


def watched_boxes(dc: dict) -> list:
    """(key, title, subtitle) of the boxes that draw a datacenter's watched machines: one per
    machine with its jobs, or one with their count when there are more than WATCHED_DRAWN."""
    machines = dc.get("watched") or []
    jobs = ", ".join(dc.get("jobs") or {}) or "nothing to scrape"
    if len(machines) > WATCHED_DRAWN:
        return [("watched_" + dc["name"], "%d watched machines" % len(machines), "jobs: " + jobs)]
    return [("watched_" + m["name"], m["name"], "scraped: " + (", ".join(_machine_jobs(m)) or "nothing"))
            for m in machines]


def _machine_jobs(machine: dict) -> list:
    return ((["node"] if machine.get("node_exporter") else [])
            + [e["name"] for e in machine.get("exporters") or []] + [e["name"] for e in machine.get("services") or []])


def _node_id(prefix: str, name: str) -> str:
    return prefix + "_" + re.sub(r"[^A-Za-z0-9_]", "_", name)


def render_mermaid(topology: dict, report: dict | None = None) -> str:
    """A Mermaid flowchart: one box per datacenter holding its servers, the globals, and one
    federation edge from every datacenter server to every global (labelled with its age when
    ``report`` is given)."""
    ages = {}
    for row in (report or {}).get("rows", []):
        for glob, text in row["federation"].items():
            ages[(row["datacenter"], glob)] = text
    lines = ["flowchart BT"]
    for dc in topology.get("datacenters") or []:
        lines.append('  subgraph %s["datacenter %s"]' % (_node_id("dc", dc["name"]), dc["name"]))
        for server in dc["servers"]:
            lines.append('    %s["%s<br/>%s"]' % (_node_id("srv", server["name"]), server["name"], server["url"]))
        for key, title, subtitle in watched_boxes(dc):
            lines.append('    %s(["%s<br/>%s"])' % (_node_id("wm", key), title, subtitle))
        lines.append("  end")
        for key, _title, _subtitle in watched_boxes(dc):
            for server in dc["servers"]:
                lines.append('  %s -. scrape .-> %s' % (_node_id("srv", server["name"]), _node_id("wm", key)))
    lines.append('  subgraph globals["global"]')
    for glob in topology.get("globals") or []:
        lines.append('    %s["%s<br/>%s"]' % (_node_id("srv", glob["name"]), glob["name"], glob["url"]))
    lines.append("  end")
    for dc in topology.get("datacenters") or []:
        for glob in topology.get("globals") or []:
            label = "/federate"
            if (dc["name"], glob["name"]) in ages:
                label += " " + ages[(dc["name"], glob["name"])]
            for server in dc["servers"]:
                lines.append('  %s -- "%s" --> %s' % (_node_id("srv", server["name"]), label,
                                                      _node_id("srv", glob["name"])))
    return "\n".join(lines) + "\n"


SVG_BOX_WIDTH = 220
SVG_BOX_HEIGHT = 44
SVG_GAP = 30


def render_svg(topology: dict, report: dict | None = None) -> str:
    """A standalone SVG of the same picture: globals on top, datacenters below with their servers,
    federation edges green when fresh, red when not (grey without ``report``)."""
    datacenters = topology.get("datacenters") or []
    globals_ = topology.get("globals") or []
    fresh = {}
    for row in (report or {}).get("rows", []):
        for glob, text in row["federation"].items():
            fresh[(row["datacenter"], glob)] = text.endswith(" s") and not text.startswith("stale")
    column = SVG_BOX_WIDTH + 2 * SVG_GAP
    width = max(len(datacenters), len(globals_), 1) * column
    deepest = max([len(dc["servers"]) + len(watched_boxes(dc)) for dc in datacenters] + [1])
    dc_top = 2 * SVG_GAP + SVG_BOX_HEIGHT + 80
    height = dc_top + 40 + deepest * (SVG_BOX_HEIGHT + 12) + SVG_GAP
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">'
        % (width, height),
        "<title>promfleet federation: %d datacenters, %d globals</title>" % (len(datacenters), len(globals_)),
        '<rect width="100%" height="100%" fill="white"/>',
    ]
    centres = {}
    offset = (width - len(globals_) * column) / 2
    for index, glob in enumerate(globals_):
        x = offset + index * column + SVG_GAP
        centres[glob["name"]] = (x + SVG_BOX_WIDTH / 2, SVG_GAP + SVG_BOX_HEIGHT)
        parts.append(_svg_box(x, SVG_GAP, glob["name"], glob["url"], "#dbe9ff"))
    boxes = []
    offset = (width - len(datacenters) * column) / 2
    for index, dc in enumerate(datacenters):
        x = offset + index * column + SVG_GAP / 2
        frame_height = 40 + (len(dc["servers"]) + len(watched_boxes(dc))) * (SVG_BOX_HEIGHT + 12)
        boxes.append('<rect x="%.0f" y="%d" width="%d" height="%d" rx="8" fill="#f4f4f4" stroke="#999"/>'
                     % (x, dc_top, SVG_BOX_WIDTH + SVG_GAP, frame_height))
        boxes.append('<text x="%.0f" y="%d" font-weight="bold">datacenter %s</text>'
                     % (x + 10, dc_top + 20, escape(dc["name"])))
        for number, server in enumerate(dc["servers"]):
            y = dc_top + 30 + number * (SVG_BOX_HEIGHT + 12)
            boxes.append(_svg_box(x + SVG_GAP / 2, y, server["name"], server["url"], "#e3f5e1"))
            for glob in globals_:
                gx, gy = centres[glob["name"]]
                colour = {True: "#2e7d32", False: "#c62828"}.get(fresh.get((dc["name"], glob["name"])), "#777")
                parts.append('<line x1="%.0f" y1="%d" x2="%.0f" y2="%d" stroke="%s" stroke-width="1.5"/>'
                             % (x + SVG_GAP / 2 + SVG_BOX_WIDTH / 2, y, gx, gy, colour))
        for number, (_key, title, subtitle) in enumerate(watched_boxes(dc), start=len(dc["servers"])):
            y = dc_top + 30 + number * (SVG_BOX_HEIGHT + 12)
            boxes.append(_svg_box(x + SVG_GAP / 2, y, title, subtitle, "#fff6d5"))
    return "\n".join(parts + boxes + ["</svg>"]) + "\n"


def _svg_box(x: float, y: float, title: str, subtitle: str, fill: str) -> str:
    return (
        '<g><rect x="%.0f" y="%.0f" width="%d" height="%d" rx="6" fill="%s" stroke="#555"/>'
        '<text x="%.0f" y="%.0f" text-anchor="middle" font-weight="bold">%s</text>'
        '<text x="%.0f" y="%.0f" text-anchor="middle" fill="#444">%s</text></g>'
        % (x, y, SVG_BOX_WIDTH, SVG_BOX_HEIGHT, fill,
           x + SVG_BOX_WIDTH / 2, y + 18, escape(title), x + SVG_BOX_WIDTH / 2, y + 35, escape(subtitle))
    )


def observations_of(topology: dict, hostvars, fact: str = "prometheus_verify") -> dict:
    """Every server's and Alertmanager's observation, the fact ``fact`` of its host in ``hostvars``
    (a mapping of host to variables); those without it are left out (they were not reached in this run)."""
    observations = {}
    for name in list(topology.get("servers") or {}) + list(topology.get("alertmanagers") or {}):
        seen = (hostvars.get(name) or {}).get(fact)
        if seen is not None:
            observations[name] = seen
    return observations


def verdict(topology: dict, observations: dict) -> dict:
    """``evaluate`` with the table, the Mermaid chart and the SVG picture added."""
    report = evaluate(topology, observations)
    report.update(table=render_table(topology, report), mermaid=render_mermaid(topology, report),
                  svg=render_svg(topology, report), stats=job_stats(topology, report, observations))
    return report


def job_stats(topology: dict, report: dict, observations: dict) -> dict:
    """What a run hands on with ``set_stats``: AWX keeps it as the job's artifacts and passes it to a
    workflow's next node as extra variables. ``promfleet_verdict`` is ``verified`` or ``failed``;
    ``promfleet_servers`` maps every server to its datacenter (``null`` for a global) and whether it
    answered; ``promfleet_ages`` maps each global to the age in seconds of every datacenter's newest
    ``up`` there (a datacenter missing at a global is left out; a global that did not answer is ``{}``)."""
    servers, ages = {}, {}
    for dc in topology.get("datacenters") or []:
        for server in dc["servers"]:
            servers[server["name"]] = {"datacenter": dc["name"], "answered": _answered(observations, server["name"])}
    for glob in topology.get("globals") or []:
        servers[glob["name"]] = {"datacenter": None, "answered": _answered(observations, glob["name"])}
        seen = observations.get(glob["name"]) or {}
        ages[glob["name"]] = {dc: round(age, 1) for dc, age in sorted((seen.get("federation_ages") or {}).items())}
    return {
        "promfleet_verdict": "verified" if report["ok"] else "failed",
        "promfleet_datacenters": [dc["name"] for dc in topology.get("datacenters") or []],
        "promfleet_servers": servers,
        "promfleet_ages": ages,
        "promfleet_failures": list(report["failures"]),
    }


def _answered(observations: dict, name: str) -> bool:
    return name in observations and "error" not in observations[name]


def render_markdown(report: dict) -> str:
    """topology.md: the Mermaid chart and the table."""
    return "# promfleet federation\n\n```mermaid\n%s```\n\n```\n%s\n```\n" % (report["mermaid"], report["table"])


def write_report(directory: str, report: dict) -> list:
    """Write ``topology.svg`` and ``topology.md`` into ``directory`` (created when missing),
    atomically; returns their paths."""
    os.makedirs(directory, mode=0o755, exist_ok=True)
    written = []
    for name, text in (("topology.svg", report["svg"]), ("topology.md", render_markdown(report))):
        path = os.path.join(directory, name)
        atomic_write(path, text.encode("utf-8"), FileAttributes(mode=0o644))
        written.append(path)
    return written

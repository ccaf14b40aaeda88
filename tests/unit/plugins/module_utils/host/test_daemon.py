"""The auto install method of the daemon machinery: the distribution's package where it carries the
release line, else the archive."""

from __future__ import annotations

from ansible_collections.promfleet.federation.plugins.module_utils.host import daemon


def _auto_params() -> dict:
    archive = "/opt/promfleet/prometheus-2.42.0"
    return {
        "binary": archive + "/prometheus",
        "config": {"checker": [archive + "/promtool", "check", "config"]},
        "files": [],
        "machine": {
            "packages": [],
            "archive": {"url": "https://example.org/p.tar.gz"},
            "binaries": [archive + "/prometheus", archive + "/promtool"],
            "package_choice": {"packages": ["prometheus"], "line": "2.42", "binaries": {
                archive + "/prometheus": "/usr/bin/prometheus", archive + "/promtool": "/usr/bin/promtool"}},
        },
    }


def test_auto_runs_the_packages_binaries_when_the_distribution_carries_the_line(monkeypatch):
    monkeypatch.setattr(daemon.machine, "distribution_has_line", lambda packages, line: True)
    params = _auto_params()
    daemon.choose_install(params)
    assert params["binary"] == "/usr/bin/prometheus"
    assert params["config"]["checker"] == ["/usr/bin/promtool", "check", "config"]
    assert params["machine"]["binaries"] == ["/usr/bin/prometheus", "/usr/bin/promtool"]
    assert (params["machine"]["packages"], params["machine"]["archive"]) == (["prometheus"], None)
    assert params["machine"]["package_choice"] is None  # decided once


def test_auto_keeps_the_archive_where_the_distribution_lacks_the_line(monkeypatch):
    monkeypatch.setattr(daemon.machine, "distribution_has_line", lambda packages, line: False)
    params = _auto_params()
    daemon.choose_install(params)
    assert params == _auto_params()

"""site.yml refuses an inventory that does not describe a federation, before it changes anything.

Each test writes a broken inventory by hand (every path in it under the test's root, through
Fleet.common_vars()) and runs playbooks/site.yml on it. A refusal must name the group or host
at fault, say what is wrong, and leave the root as it was: no configuration, data or supervisord
directory, and nothing running.
"""

from __future__ import annotations

import json

import pytest
import yaml
from fleet import Fleet, free_ports
from it_support import assert_failed, assert_nothing_runs, assert_succeeded, scratch_root, tear_down

CREATED_BY_A_RUN = ("etc", "data", "log", "supervisor")


@pytest.fixture
def fleet(request):
    """Paths and ports under a root of the test's own; torn down only if something was started."""
    fleet = Fleet(scratch_root("preflight-" + request.node.name.replace("test_", "", 1)[:40]), datacenters=[])
    fleet.ports.update(zip(["a", "b", "c", "d"], free_ports(4), strict=True))
    yield fleet
    tear_down(fleet, fleet.root / "inventory" / "broken.yml", always=False)


def server(fleet: Fleet, port: str, **hostvars) -> dict:
    return {"prometheus_port": fleet.ports[port], **hostvars}


def run_site(fleet: Fleet, children: dict, **extra_vars):
    """site.yml on an inventory of ``children`` (groups under `all`), with the fleet's paths."""
    inventory = {"all": {"vars": {**fleet.common_vars(), **extra_vars}, "children": children}}
    path = fleet.root / "inventory" / "broken.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(inventory, sort_keys=False))
    return fleet.run("playbooks/site.yml", path, check=False)


def assert_refused_before_any_change(run, fleet: Fleet, *phrases: str) -> None:
    assert_failed(run)
    for phrase in phrases:
        assert phrase in run.output, "the failure does not say %r:\n%s" % (phrase, run.output[-4000:])
    created = sorted(name for name in CREATED_BY_A_RUN if (fleet.root / name).exists())
    assert not created, "the refused run created %s under %s:\n%s" % (created, fleet.root, run.output[-4000:])
    assert_nothing_runs(fleet)


def global_group(fleet: Fleet, port: str = "d") -> dict:
    return {"prometheus_global": {"hosts": {"global-a": server(fleet, port)}}}


def test_datacenter_group_without_a_server_is_refused(fleet):
    run = run_site(fleet, {
        "datacenters": {"children": {
            "dc_eu_west_1": {"vars": {"datacenter": "eu-west-1"}, "hosts": {"eu-west-1-prom-a": server(fleet, "a")}},
            "dc_empty": {"vars": {"datacenter": "us-east-1"}},
        }},
        **global_group(fleet),
    })
    assert_refused_before_any_change(run, fleet, "datacenter group 'dc_empty'", "has no server")


def test_datacenter_group_without_the_datacenter_variable_is_refused(fleet):
    run = run_site(fleet, {
        "datacenters": {"children": {
            "dc_unlabelled": {"hosts": {"eu-west-1-prom-a": server(fleet, "a")}},
        }},
        **global_group(fleet),
    })
    assert_refused_before_any_change(
        run, fleet, "datacenter group 'dc_unlabelled'", "does not set the variable 'datacenter'", "eu-west-1-prom-a")


def test_two_datacenter_groups_sharing_a_datacenter_value_are_refused(fleet):
    run = run_site(fleet, {
        "datacenters": {"children": {
            "dc_first": {"vars": {"datacenter": "eu-west-1"}, "hosts": {"eu-west-1-prom-a": server(fleet, "a")}},
            "dc_second": {"vars": {"datacenter": "eu-west-1"}, "hosts": {"eu-west-1-prom-b": server(fleet, "b")}},
        }},
        **global_group(fleet),
    })
    assert_refused_before_any_change(
        run, fleet, "'dc_first' and 'dc_second' both set datacenter: eu-west-1", "every datacenter needs its own value")


def test_two_servers_with_the_same_external_labels_are_refused(fleet):
    run = run_site(fleet, {
        "datacenters": {"children": {
            "dc_eu_west_1": {"vars": {"datacenter": "eu-west-1"}, "hosts": {
                "eu-west-1-prom-a": server(fleet, "a", prometheus_replica="a"),
                "eu-west-1-prom-b": server(fleet, "b", prometheus_replica="a"),
            }},
        }},
        **global_group(fleet),
    })
    assert_refused_before_any_change(
        run, fleet, "hosts 'eu-west-1-prom-a' and 'eu-west-1-prom-b'", "would carry the same external labels")


def test_host_in_a_datacenter_and_in_the_global_group_is_refused(fleet):
    run = run_site(fleet, {
        "datacenters": {"children": {
            "dc_eu_west_1": {"vars": {"datacenter": "eu-west-1"}, "hosts": {"eu-west-1-prom-a": server(fleet, "a")}},
        }},
        "prometheus_global": {"hosts": {"eu-west-1-prom-a": None}},
    })
    assert_refused_before_any_change(
        run, fleet, "host 'eu-west-1-prom-a' is both in datacenter group 'dc_eu_west_1' and in 'prometheus_global'")


def test_datacenters_without_a_global_server_are_refused(fleet):
    run = run_site(fleet, {
        "datacenters": {"children": {
            "dc_eu_west_1": {"vars": {"datacenter": "eu-west-1"}, "hosts": {"eu-west-1-prom-a": server(fleet, "a")}},
        }},
    })
    assert_refused_before_any_change(
        run, fleet, "datacenters exist (eu-west-1) but group 'prometheus_global' has no server")


def test_invalid_federation_selector_is_refused_before_any_change(fleet):
    run = run_site(fleet, {
        "datacenters": {"children": {
            "dc_eu_west_1": {"vars": {"datacenter": "eu-west-1"}, "hosts": {"eu-west-1-prom-a": server(fleet, "a")}},
        }},
        **global_group(fleet),
    }, global_federation_match=["{}"])
    assert_refused_before_any_change(
        run, fleet, "global_federation_match[0] '{}'", "an empty selector matches nothing")


def test_relabel_rules_nested_under_kubernetes_sd_configs_are_refused_before_any_change(fleet):
    misplaced = {"job_name": "my-service", "kubernetes_sd_configs": [{
        "role": "service",
        "relabel_configs": [{"source_labels": ["__meta_kubernetes_service_name"], "regex": "my-service",
                             "action": "keep"}],
    }]}
    run = run_site(fleet, {
        "datacenters": {"children": {
            "dc_eu_west_1": {"vars": {"datacenter": "eu-west-1"}, "hosts": {"eu-west-1-prom-a": server(fleet, "a")}},
        }},
        **global_group(fleet),
    }, prometheus_scrape_configs=[misplaced])
    assert_refused_before_any_change(
        run, fleet, 'job "my-service": kubernetes_sd_configs[0]: relabel_configs is not a field of a '
        "kubernetes_sd_config; relabel rules belong to the scrape job: move them out one level, next to "
        "kubernetes_sd_configs")


def test_scrape_timeout_above_the_interval_is_refused_before_any_change(fleet):
    job = {"job_name": "node", "scrape_interval": "15s", "scrape_timeout": "20s",
           "static_configs": [{"targets": ["127.0.0.1:9100"]}]}
    run = run_site(fleet, {
        "datacenters": {"children": {
            "dc_eu_west_1": {"vars": {"datacenter": "eu-west-1"}, "hosts": {"eu-west-1-prom-a": server(fleet, "a")}},
        }},
        **global_group(fleet),
    }, prometheus_scrape_configs=[job])
    assert_refused_before_any_change(
        run, fleet, 'job "node": scrape_timeout 20s is greater than scrape_interval 15s; make the timeout at '
        "most the interval")


def test_selector_matching_every_series_is_warned_about(federation):
    # Check mode on the shared federation, limited to the global whose configuration the selector
    # is part of: the warning comes from building that configuration, which --check does too.
    # Nothing changes, so nothing has to be put back.
    selector = '{job=~".+"}'
    run = federation.run("--check", "--limit", "prometheus_global",
                         "-e", json.dumps({"global_federation_match": [selector]}))
    assert_succeeded(run)
    warnings = [line for line in run.output.splitlines() if line.startswith("[WARNING]")]
    assert any(selector in line and "matches every series" in line for line in warnings), (
        "no [WARNING] about %s matching every series; warnings were:\n%s" % (selector, "\n".join(warnings)))


def test_an_unauthenticated_lifecycle_api_beyond_loopback_is_refused_before_any_change(fleet):
    run = run_site(fleet, {
        "datacenters": {"children": {
            "dc_eu_west_1": {"vars": {"datacenter": "eu-west-1"}, "hosts": {"eu-west-1-prom-a": server(
                fleet, "a", prometheus_listen_address="0.0.0.0", prometheus_extra_flags=["--web.enable-lifecycle"])}},
        }},
        **global_group(fleet),
    })
    assert_refused_before_any_change(
        run, fleet, "host 'eu-west-1-prom-a': prometheus_extra_flags turns on --web.enable-lifecycle while",
        "Listen on 127.0.0.1, add --web.config.file=<file with basic_auth_users>")


def test_a_kubernetes_server_without_a_usable_federation_url_is_refused_before_any_change(fleet):
    run = run_site(fleet, {
        "datacenters": {"children": {
            "dc_eu_west_1": {"vars": {"datacenter": "eu-west-1"}, "hosts": {"eu-west-1-prom-a": server(
                fleet, "a", prometheus_kubernetes={"namespace": "monitoring", "federation_url": "10.0.0.5:30090"})}},
        }},
        **global_group(fleet),
    })
    assert_refused_before_any_change(
        run, fleet, "host 'eu-west-1-prom-a': prometheus_kubernetes.federation_url '10.0.0.5:30090' must be the "
        "http(s) URL other servers reach this Prometheus by")


def test_an_awx_job_without_a_lasting_pki_folder_is_refused_naming_the_variable(fleet):
    """In AWX the inventory folder is the job's, gone with it: a CA there would be new at every job."""
    common = {key: value for key, value in fleet.common_vars().items() if key != "promfleet_pki_dir"}
    datacenter = {"vars": {"datacenter": "eu-west-1"}, "hosts": {"eu-west-1-prom-a": server(fleet, "a")}}
    inventory = {"all": {"vars": common, "children": {"datacenters": {"children": {"dc_eu_west_1": datacenter}},
                                                      **global_group(fleet)}}}
    path = fleet.root / "inventory" / "broken.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(inventory, sort_keys=False))
    run = fleet.run("playbooks/site.yml", path, "-e", "awx_job_id=42", check=False)
    assert_refused_before_any_change(run, fleet, "this is an AWX job (awx_job_id is set) and promfleet_pki_dir is not "
                                     "set", "Paths to expose to isolated jobs")
    assert not (path.parent / "pki").exists()

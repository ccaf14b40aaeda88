"""The decisions of the in-cluster reload (kube_reload.py): which pods run the ConfigMap, which
must reload, which are left alone; and how the mounted files are compared."""

from __future__ import annotations

import hashlib

from ansible_collections.promfleet.federation.plugins.module_utils.kube import reload as kube_reload

DATA = {"prometheus.yml": "global: {}\n", "node.rules.yml": "groups: []\n"}


def pod(name="p-0", phase="Running", ready=True, annotation=None, deleting=False, container="prometheus"):
    metadata = {"name": name, "annotations": {kube_reload.LIVE_ANNOTATION: annotation} if annotation else None}
    if deleting:
        metadata["deletionTimestamp"] = "2026-11-26T00:00:00Z"
    return {"metadata": metadata,
            "status": {"phase": phase, "containerStatuses": [{"name": container, "ready": ready}]}}


class TestDigests:
    def test_each_file_is_digested_as_sha256sum_prints_it(self):
        assert kube_reload.file_digests(DATA)["prometheus.yml"] == hashlib.sha256(b"global: {}\n").hexdigest()

    def test_the_data_digest_does_not_depend_on_key_order(self):
        assert kube_reload.data_digest(DATA) == kube_reload.data_digest(dict(reversed(list(DATA.items()))))

    def test_any_change_of_a_file_or_a_name_changes_the_data_digest(self):
        digest = kube_reload.data_digest(DATA)
        assert kube_reload.data_digest(dict(DATA, **{"node.rules.yml": "groups: [] \n"})) != digest
        assert kube_reload.data_digest({"prometheus.yml": "global: {}\n", "other.rules.yml": "groups: []\n"}) != digest


class TestSha256sumOutput:
    def test_paths_become_file_names(self):
        text = "%s  /etc/prometheus/prometheus.yml\n%s  /etc/prometheus/node.rules.yml\n" % ("a" * 64, "B" * 64)
        assert kube_reload.parse_sha256sum(text) == {"prometheus.yml": "a" * 64, "node.rules.yml": "b" * 64}

    def test_error_lines_are_not_files(self):
        assert kube_reload.parse_sha256sum("sha256sum: /etc/prometheus/*: No such file or directory\n") == {}


class TestReadiness:
    def test_a_running_pod_with_a_ready_prometheus_container_is_ready(self):
        assert kube_reload.pod_ready(pod()) == (True, "")

    def test_a_pending_pod_is_not(self):
        assert kube_reload.pod_ready(pod(phase="Pending")) == (False, "it is Pending")

    def test_a_pod_without_a_phase_is_not_scheduled_yet(self):
        assert kube_reload.pod_ready({"metadata": {"name": "p"}, "status": {}}) == (False, "it is not scheduled yet")

    def test_a_pod_whose_prometheus_is_not_ready_is_not(self):
        assert kube_reload.pod_ready(pod(ready=False)) == (False, "its prometheus container is not ready")

    def test_only_the_prometheus_container_counts(self):
        assert kube_reload.pod_ready(pod(container="config-reloader"))[0] is False

    def test_a_pod_being_deleted_is_not(self):
        assert kube_reload.pod_ready(pod(deleting=True)) == (False, "it is being deleted")


class TestSettled:
    """The reload first waits for the workload's pods to settle, so a run that rolls them reloads them too."""

    def test_as_many_ready_pods_as_the_workload_wants_have_settled(self):
        assert kube_reload.settled([pod("p-0"), pod("p-1")], 2) is True

    def test_a_starting_pod_has_not(self):
        assert kube_reload.settled([pod("p-0"), pod("p-1", ready=False)], 2) is False

    def test_fewer_pods_than_wanted_have_not_even_when_all_are_ready(self):
        assert kube_reload.settled([pod("p-0")], 2) is False

    def test_a_pod_being_deleted_does_not_count_either_way(self):
        assert kube_reload.settled([pod("old", deleting=True), pod("new")], 1) is True
        assert kube_reload.settled([pod("old", deleting=True)], 1) is False

    def test_without_a_known_workload_the_pods_alone_count(self):
        assert (kube_reload.settled([], None), kube_reload.settled([pod(ready=False)], None)) == (True, False)


class TestPlan:
    DIGEST = kube_reload.data_digest(DATA)

    def test_a_pod_annotated_with_the_digest_and_a_successful_reload_runs_the_data(self):
        steps = kube_reload.plan([pod(annotation=self.DIGEST)], self.DIGEST, {"p-0": {"successful": True}})
        assert [s["action"] for s in steps] == ["live"]

    def test_a_pod_with_another_digest_or_none_is_reloaded(self):
        steps = kube_reload.plan([pod("a", annotation="old"), pod("b")], self.DIGEST,
                                 {"a": {"successful": True}, "b": {"successful": True}})
        assert [(s["pod"], s["action"]) for s in steps] == [("a", "reload"), ("b", "reload")]
        assert steps[0]["reason"] == "this ConfigMap has not been verified in it yet"

    def test_a_failed_last_reload_makes_even_a_verified_pod_reload(self):
        steps = kube_reload.plan([pod(annotation=self.DIGEST)], self.DIGEST, {"p-0": {"successful": False}})
        assert steps[0]["action"] == "reload"
        assert steps[0]["reason"] == "its last reload failed since this ConfigMap was verified in it"

    def test_pods_that_are_not_ready_are_skipped_and_sorted_with_the_others(self):
        steps = kube_reload.plan([pod("b", phase="Pending"), pod("a", annotation=self.DIGEST)], self.DIGEST,
                                 {"a": {"successful": True}})
        assert [(s["pod"], s["action"]) for s in steps] == [("a", "live"), ("b", "skip")]
        assert steps[1]["reason"] == "it is Pending; it reads the ConfigMap when it starts"


class TestTrigger:
    def test_exec_and_sidecar_send_sighup_to_pid_1(self):
        assert kube_reload.trigger_description("exec") == "SIGHUP (exec kill -HUP 1 in container prometheus)"
        # with a shared process namespace PID 1 is the pause process: the reloader container signals by name
        assert kube_reload.trigger_description("sidecar") == (
            "SIGHUP (exec killall -HUP prometheus in container config-reloader)")

    def test_http_posts_through_the_pod_proxy(self):
        assert kube_reload.trigger_description("http") == "POST /-/reload through the API server's pod proxy"

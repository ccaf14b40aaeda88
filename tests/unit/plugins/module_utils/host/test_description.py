"""Daemon settings no run could succeed with (``host/description.py``), named in the user's words, and
where an instance keeps its files and is asked whether it serves."""

from __future__ import annotations

from ansible_collections.promfleet.federation.plugins.module_utils.host.description import (
    install_problems,
    layout_problems,
    lifecycle_problem,
)

HINTS = {"archive_url": "prometheus_tarball_url", "archive_checksum": "prometheus_tarball_checksum"}
CHECKSUM = "sha256:" + "a" * 64


def test_a_package_or_binary_install_needs_no_archive():
    assert install_problems({"method": "package"}) == []
    assert install_problems({"method": "binary", "archive_checksum": "md5:x"}) == []


def test_a_tarball_install_needs_a_url_and_a_sha256_checksum():
    assert install_problems({"method": "tarball", "archive_url": "http://x/p.tar.gz", "archive_checksum": CHECKSUM,
                             "hints": HINTS}) == []
    problems = install_problems({"method": "tarball", "archive_url": "", "archive_checksum": "md5:abc", "hints": HINTS})
    assert problems == [
        "prometheus_tarball_url is empty; the tarball method needs the URL of a release archive",
        "prometheus_tarball_checksum must be sha256:<64 hex digits> or sha256:<URL of a sha256sums.txt> "
        '(got "md5:abc")',
    ]


def test_a_checksum_list_url_is_a_valid_checksum():
    assert install_problems({"method": "tarball", "archive_url": "http://x/p.tar.gz",
                             "archive_checksum": "sha256:https://x/sha256sums.txt", "hints": HINTS}) == []


def test_without_hints_the_fields_are_named():
    assert install_problems({"method": "tarball", "archive_url": "u"}) == [
        'archive_checksum must be sha256:<64 hex digits> or sha256:<URL of a sha256sums.txt> (got "")']


def test_the_lifecycle_api_is_refused_beyond_loopback_without_a_web_config():
    problem = lifecycle_problem(["--web.enable-lifecycle"], "0.0.0.0", 9090, "prometheus_extra_flags", "Prometheus")
    assert problem.startswith("prometheus_extra_flags turns on --web.enable-lifecycle while Prometheus listens on "
                              "0.0.0.0, so anyone who reaches port 9090 could stop or reload it.")


def test_the_lifecycle_api_is_allowed_on_loopback_or_with_a_web_config_and_no_flag_needs_nothing():
    assert lifecycle_problem(["--web.enable-lifecycle"], "127.0.0.1", 9090) is None
    assert lifecycle_problem(["--web.enable-lifecycle"], "::1", 9090) is None
    assert lifecycle_problem(["--web.enable-lifecycle", "--web.config.file=/etc/web.yml"], "0.0.0.0", 9090) is None
    assert lifecycle_problem(["--log.level=debug"], "0.0.0.0", 9090) is None


def test_owned_directories_that_are_directories_and_an_absolute_ready_path_are_fine():
    assert layout_problems({"directories": [{"path": "/etc/p/targets/"}], "owned_dirs": ["/etc/p/targets"],
                            "ready_path": "/metrics"}) == []
    assert layout_problems({}) == []


def test_an_owned_directory_that_is_not_one_of_the_directories_is_named():
    assert layout_problems({"directories": [{"path": "/etc/p"}], "owned_dirs": ["/etc/p/targets"]}) == [
        "owned_dirs: /etc/p/targets is not one of the directories; list it there too (with its owner and mode), "
        "so that it is created before its files"]


def test_a_ready_path_that_is_no_url_path_is_refused():
    assert layout_problems({"ready_path": "metrics"}) == [
        'ready_path must be a URL path starting with "/" (got "metrics")']

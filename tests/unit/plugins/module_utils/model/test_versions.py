"""The release lines the engine models (``model.versions``): which schema versions it knows, how a
release maps to its line, what differs between lines, and which server flags a release refuses."""

from __future__ import annotations

import pytest

from ansible_collections.promfleet.federation.plugins.module_utils.errors import ConfigError
from ansible_collections.promfleet.federation.plugins.module_utils.model.versions import (
    DEFAULT_SCHEMA_VERSION,
    LTS_RELEASE,
    SUPPORTED_SCHEMA_VERSIONS,
    check_version,
    flag_problems,
    release_tuple,
    schema_of_release,
    semantics,
    version_at_least,
    version_tuple,
)

# fmt: off
ALL_LINES = [
    "2.42", "2.43", "2.44", "2.45", "2.46", "2.47", "2.48", "2.49", "2.50", "2.51", "2.52", "2.53", "2.54", "2.55",
    "3.0", "3.1", "3.2", "3.3", "3.4", "3.5", "3.6", "3.7", "3.8", "3.9", "3.10", "3.11", "3.12", "3.13",
]
# fmt: on


# ---------------------------------------------------------------- the supported lines


def test_supported_lines_are_2_42_to_2_55_and_3_0_to_3_13_oldest_first():
    assert list(SUPPORTED_SCHEMA_VERSIONS) == ALL_LINES


def test_default_is_the_current_lts():
    assert DEFAULT_SCHEMA_VERSION == "3.13"
    assert LTS_RELEASE == "3.13.0" and schema_of_release(LTS_RELEASE) == DEFAULT_SCHEMA_VERSION


@pytest.mark.parametrize("version", ALL_LINES)
def test_every_supported_line_is_accepted(version):
    assert check_version(version) == version


@pytest.mark.parametrize("version", ["3.5.3", "2.53.0"])
def test_a_release_of_a_supported_line_is_accepted_as_given(version):
    assert check_version(version) == version


@pytest.mark.parametrize("version", ["2.41", "2.56", "3.14", "4.0", "1.8"])
def test_lines_outside_the_model_are_refused_listing_the_supported_ones(version):
    with pytest.raises(ConfigError) as info:
        check_version(version)
    assert str(info.value) == (
        "Prometheus version %s is not modelled by the engine; use one of %s (2.42 to 2.55, 3.0 to 3.13)"
        % (version, ", ".join(ALL_LINES))
    )


@pytest.mark.parametrize("version", ["latest", "3", "", "3.x", "v3.5"])
def test_not_a_version_is_refused_naming_the_default_as_example(version):
    with pytest.raises(ConfigError) as info:
        check_version(version)
    assert str(info.value) == "version %r is not a Prometheus version like 3.13" % version


@pytest.mark.parametrize(
    "version, expected", [("2.42", (2, 42)), ("3.5.3", (3, 5)), ("3.13", (3, 13)), ("03.05", (3, 5))]
)
def test_version_tuple_is_major_and_minor(version, expected):
    assert version_tuple(version) == expected


@pytest.mark.parametrize(
    "version, minimum, expected",
    [
        ("2.43", "2.42", True),
        ("2.42", "2.42", True),
        ("2.42", "2.43", False),
        ("2.100", "2.43", True),
        ("3.0", "2.55", True),
        ("2.55", "3.0", False),
        ("3.10", "3.9", True),
        ("3.9", "3.10", False),
        ("3.5.3", "3.5", True),
    ],
)
def test_versions_compare_numerically(version, minimum, expected):
    assert version_at_least(version, minimum) is expected


# ---------------------------------------------------------------- releases


@pytest.mark.parametrize(
    "release, line",
    [
        ("3.5.3+ds1", "3.5"),
        ("2.42.0+ds", "2.42"),
        ("2.53.3", "2.53"),
        ("v3.13.0", "3.13"),
        ("3.0.0-rc.1", "3.0"),
        ("3.10", "3.10"),
    ],
)
def test_schema_of_release_is_its_major_minor(release, line):
    assert schema_of_release(release) == line


def test_schema_of_a_non_release_is_refused():
    with pytest.raises(ConfigError, match=r"^version 'latest' is not a Prometheus version like 3\.13$"):
        schema_of_release("latest")


@pytest.mark.parametrize(
    "release, expected",
    [
        ("3.5.3+ds1", (3, 5, 3)),
        ("2.42.0+ds", (2, 42, 0)),
        ("v2.53.3", (2, 53, 3)),
        ("3.0.0-rc.1", (3, 0, 0)),
        ("3.5", (3, 5, 0)),
        ("3.13.10", (3, 13, 10)),
    ],
)
def test_release_tuple(release, expected):
    assert release_tuple(release) == expected


def test_release_tuples_order_patches_numerically():
    assert release_tuple("3.5.10") > release_tuple("3.5.9") > release_tuple("3.5")


@pytest.mark.parametrize("release", ["3", "3.5.3.1", "latest", "3.5.x"])
def test_release_tuple_of_a_non_release_is_refused_naming_the_lts_as_example(release):
    with pytest.raises(ConfigError) as info:
        release_tuple(release)
    assert str(info.value) == "release %r is not a Prometheus release like 3.13.0" % release


# ---------------------------------------------------------------- what differs between lines

SEMANTICS = [
    # line,  go,     named_angle, dot_nl, utf8_names, default_port, case_target_template
    ("2.42", "1.19", False, False, False, True, True),
    ("2.50", "1.21", False, False, False, True, False),
    ("2.51", "1.22", True, False, False, True, False),
    ("2.53", "1.22", True, False, False, True, False),
    ("2.55", "1.23", True, False, False, True, False),
    ("3.0", "1.23", True, True, True, False, True),
    ("3.5", "1.24", True, True, True, False, True),
    ("3.13", "1.25", True, True, True, False, True),
]


@pytest.mark.parametrize(
    "version, go, named_angle, dot_nl, utf8_names, default_port, case_target_template",
    SEMANTICS,
    ids=[row[0] for row in SEMANTICS],
)
def test_semantics_of_each_line(version, go, named_angle, dot_nl, utf8_names, default_port, case_target_template):
    sem = semantics(version)
    assert sem.version == version
    assert sem.go == go
    assert (sem.named_angle, sem.dot_nl, sem.utf8_names, sem.default_port, sem.case_target_template) == (
        named_angle,
        dot_nl,
        utf8_names,
        default_port,
        case_target_template,
    )
    assert sem.regex_options() == {"named_angle": named_angle, "dot_nl": dot_nl}


@pytest.mark.parametrize("line", ["2.%d" % minor for minor in range(49, 56)])
def test_a_templated_target_of_lowercase_and_friends_is_refused_from_2_49_to_2_55(line):
    assert semantics(line).case_target_template is False


@pytest.mark.parametrize("line", ["2.%d" % minor for minor in range(42, 49)] + ["3.0", "3.13"])
def test_a_templated_target_of_lowercase_and_friends_is_taken_until_2_48_and_by_3_x(line):
    assert semantics(line).case_target_template is True


def test_semantics_of_a_release_is_that_of_its_line():
    assert semantics("3.5.3").version == "3.5" and semantics("3.5.3").utf8_names


def test_semantics_default_to_the_lts():
    assert semantics().version == "3.13"


@pytest.mark.parametrize("version", ["2.41", "3.14", "4.0"])
def test_semantics_of_an_unmodelled_line_is_refused(version):
    with pytest.raises(ConfigError, match=r"^Prometheus version %s is not modelled by the engine" % version):
        semantics(version)


# ---------------------------------------------------------------- server flags


def test_flag_removed_in_3_names_the_release_and_the_replacement():
    assert flag_problems(["--storage.tsdb.retention=15d"], "3.5.3") == [
        "flag --storage.tsdb.retention was removed in Prometheus 3.0 (3.5.3 refuses to start with it); "
        "use --storage.tsdb.retention.time"
    ]


@pytest.mark.parametrize("release", ["2.53.3", "2.42.0+ds", "2.55.1"])
def test_flag_removed_in_3_is_no_problem_for_2_x(release):
    assert flag_problems(["--storage.tsdb.retention=15d"], release) == []


@pytest.mark.parametrize(
    "flag, instead",
    [
        ("--storage.tsdb.use-lockfile", "--storage.tsdb.no-lockfile"),
        ("--alertmanager.timeout=10s", "alerting.alertmanagers[].timeout"),
        ("--storage.tsdb.allow-overlapping-blocks", "overlapping blocks are always allowed"),
    ],
)
def test_every_flag_removed_in_3_is_named_on_3_0(flag, instead):
    (problem,) = flag_problems([flag], "3.0.0")
    assert problem.startswith("flag %s was removed in Prometheus 3.0" % flag.split("=")[0]) and instead in problem


def test_the_replacement_flag_is_no_problem():
    assert flag_problems(["--storage.tsdb.retention.time=15d", "--storage.tsdb.path=/data"], "3.5.3") == []


def test_feature_flag_ignored_by_3_x_names_what_to_use():
    assert flag_problems(["--enable-feature=agent"], "3.5.3") == [
        "--enable-feature=agent is ignored by Prometheus 3.5.3 (3.x); use --agent"
    ]


def test_feature_flag_is_no_problem_for_2_x():
    assert flag_problems(["--enable-feature=agent"], "2.53.3") == []


def test_each_ignored_feature_of_a_list_is_named_and_the_others_are_not():
    problems = flag_problems(["--enable-feature=exemplar-storage,promql-at-modifier,agent"], "3.0.0")
    assert problems == [
        "--enable-feature=promql-at-modifier is ignored by Prometheus 3.0.0 (3.x); use nothing: always on",
        "--enable-feature=agent is ignored by Prometheus 3.0.0 (3.x); use --agent",
    ]


def test_flag_newer_than_the_release_names_the_first_line_with_it():
    assert flag_problems(["--agent"], "2.42.0") == [
        "flag --agent needs Prometheus 3.0 or newer, the server runs 2.42.0"
    ]


@pytest.mark.parametrize(
    "flag, release, problems",
    [
        ("--agent", "3.0.0", 0),
        ("--agent", "2.55.1", 1),
        ("--web.enable-otlp-receiver", "2.54.0", 1),
        ("--web.enable-otlp-receiver", "3.5.3", 0),
        ("--auto-gomemlimit.ratio=0.8", "2.49.1", 1),
        ("--auto-gomemlimit.ratio=0.8", "2.50.0", 0),
    ],
)
def test_newer_flags_from_their_first_line_on(flag, release, problems):
    assert len(flag_problems([flag], release)) == problems


def test_problems_come_in_the_order_of_the_flags():
    problems = flag_problems(["--agent", "--storage.tsdb.retention=1d", "--web.enable-otlp-receiver"], "2.42.0")
    assert [problem.split()[1] for problem in problems] == ["--agent", "--web.enable-otlp-receiver"]


def test_flags_of_a_non_release_are_refused():
    with pytest.raises(ConfigError):
        flag_problems(["--agent"], "latest")

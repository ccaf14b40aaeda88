"""Specification of writing prometheus.yml and its rule files (plugins/module_utils/host/config_files.py).

Everything runs in pytest's tmp dirs. promtool is either absent (``None``) or a stand-in script
that records what it was asked to check; the real promtool is exercised by
tests/integration/test_prometheus_config_module.py.
"""

from __future__ import annotations

import hashlib
import os
import stat

import pytest
import yaml

from ansible_collections.promfleet.federation.plugins.module_utils.errors import (
    CheckerError,
    ConfigError,
    ConfigFileError,
)
from ansible_collections.promfleet.federation.plugins.module_utils.host.checkers import find_binary, promtool_config
from ansible_collections.promfleet.federation.plugins.module_utils.host.config_files import (
    apply,
    check,
    diff,
    plan,
    restore_last_good,
    result,
    validation_copy,
)
from ansible_collections.promfleet.federation.plugins.module_utils.host.files import (
    FileAttributes,
    parse_mode,
)
from ansible_collections.promfleet.federation.plugins.module_utils.model.documents import render
from ansible_collections.promfleet.federation.plugins.module_utils.model.promconfig import engine

# The check the prometheus_config module passes (the daemon module passes none: its configuration
# was checked before the run).
ENGINE = engine("2.42")

CONFIG = {
    "global": {"scrape_interval": "15s", "external_labels": {"datacenter": "eu-west-1"}},
    "scrape_configs": [{"job_name": "node", "static_configs": [{"targets": ["localhost:9100"]}]}],
}
RULES = {"groups": [{"name": "aggregates", "rules": [{"record": "job:up:sum", "expr": "sum by (job) (up)"}]}]}


def with_password(password: str) -> dict:
    job = {
        "job_name": "app",
        "basic_auth": {"username": "scraper", "password": password},
        "static_configs": [{"targets": ["app:8080"]}],
    }
    return dict(CONFIG, scrape_configs=CONFIG["scrape_configs"] + [job])


def write(tmp_path, config=None, rule_files=None, promtool=None, **kwargs) -> bool:
    """Plan and apply as the prometheus_config module does; whether something changed."""
    planned = plan(str(tmp_path / "prometheus.yml"), config or CONFIG, rule_files, engine=ENGINE, **kwargs)
    return apply(planned, promtool_config(promtool), ENGINE)


def listing(root) -> dict:
    """Every file under ``root``: relative path -> (bytes, mtime_ns, inode)."""
    found = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            st = path.stat()
            found[str(path.relative_to(root))] = (path.read_bytes(), st.st_mtime_ns, st.st_ino)
    return found


@pytest.fixture
def fake_promtool(tmp_path_factory):
    """A promtool stand-in: saves the config it checks as ``checked.yml``; fails with a message
    naming the file when ``fail`` exists next to it."""
    home = tmp_path_factory.mktemp("promtool")
    script = home / "promtool"
    script.write_text(
        "#!/bin/sh\n"
        'cp "$3" %s/checked.yml\n'
        'if [ -e %s/fail ]; then echo "FAILED: $3: bad expression in the rules"; exit 1; fi\n'
        'echo "SUCCESS: $3 is valid prometheus config file syntax"\n' % (home, home)
    )
    script.chmod(0o755)
    return home


# --- rendering ------------------------------------------------------------------------------------


def test_render_is_block_style_in_the_given_key_order_with_unicode_kept():
    document = {"zeta": 1, "alpha": {"labels": {"city": "Zürich"}, "list": ["b", "a"]}}
    assert render(document) == "zeta: 1\nalpha:\n  labels:\n    city: Zürich\n  list:\n  - b\n  - a\n".encode()


def test_rule_files_append_the_rules_glob_to_the_config(tmp_path):
    written = plan(str(tmp_path / "prometheus.yml"), dict(CONFIG, rule_files=["/etc/other.yml"]), {"a.yml": RULES})
    assert yaml.safe_load(written.config_bytes)["rule_files"] == ["/etc/other.yml", str(tmp_path / "rules" / "*.yml")]


def test_a_relative_entry_naming_the_rules_glob_is_kept_as_it_is(tmp_path):
    written = plan(str(tmp_path / "prometheus.yml"), dict(CONFIG, rule_files=["rules/*.yml"]), {"a.yml": RULES})
    assert yaml.safe_load(written.config_bytes)["rule_files"] == ["rules/*.yml"]


def test_without_rule_files_the_config_is_written_as_given(tmp_path):
    written = plan(str(tmp_path / "prometheus.yml"), CONFIG)
    assert written.config_bytes == render(CONFIG)
    assert written.rules_dir is None


def test_rule_file_names_must_be_plain_and_end_in_yml(tmp_path):
    with pytest.raises(ConfigFileError, match=r"'a\.yaml' is not a plain file name ending in \.yml"):
        plan(str(tmp_path / "prometheus.yml"), CONFIG, {"a.yaml": RULES})
    with pytest.raises(ConfigFileError, match="is not a plain file name"):
        plan(str(tmp_path / "prometheus.yml"), CONFIG, {"../a.yml": RULES})


def test_mode_is_octal_text_or_the_number_yaml_makes_of_it():
    assert parse_mode("0640") == 0o640
    assert parse_mode("640") == 0o640
    assert parse_mode(0o640) == 0o640
    with pytest.raises(ConfigFileError, match="mode must be an octal number"):
        parse_mode("u=rw,g=r")


# --- writing --------------------------------------------------------------------------------------


def test_config_and_rule_files_are_written_with_the_mode(tmp_path):
    assert write(tmp_path, rule_files={"a.yml": RULES}) is True
    assert (tmp_path / "rules" / "a.yml").read_bytes() == render(RULES)
    assert yaml.safe_load((tmp_path / "prometheus.yml").read_bytes())["scrape_configs"] == CONFIG["scrape_configs"]
    assert stat.S_IMODE((tmp_path / "prometheus.yml").stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "rules" / "a.yml").stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "rules").stat().st_mode) == 0o750


def test_no_temporary_file_is_left_behind(tmp_path):
    write(tmp_path, rule_files={"a.yml": RULES})
    assert sorted(listing(tmp_path)) == ["prometheus.yml", "rules/a.yml"]


def test_checksum_is_the_sha256_of_the_written_config(tmp_path):
    written = plan(str(tmp_path / "prometheus.yml"), CONFIG)
    apply(written, None)
    assert result(written, True)["checksum"] == hashlib.sha256((tmp_path / "prometheus.yml").read_bytes()).hexdigest()


def test_unchanged_content_touches_nothing_not_even_mtime(tmp_path):
    write(tmp_path, rule_files={"a.yml": RULES})
    before = listing(tmp_path)
    assert write(tmp_path, rule_files={"a.yml": RULES}) is False
    assert listing(tmp_path) == before


def test_only_the_changed_rule_file_is_replaced(tmp_path):
    write(tmp_path, rule_files={"a.yml": RULES, "b.yml": RULES})
    before = listing(tmp_path)
    other = {"groups": [{"name": "other", "rules": [{"record": "x:up:sum", "expr": "sum(up)"}]}]}
    assert write(tmp_path, rule_files={"a.yml": RULES, "b.yml": other}) is True
    after = listing(tmp_path)
    assert after["rules/a.yml"] == before["rules/a.yml"]
    assert after["prometheus.yml"] == before["prometheus.yml"]
    assert after["rules/b.yml"][0] == render(other)


def test_temporary_files_left_by_an_interrupted_run_are_removed_by_the_next_write(tmp_path):
    write(tmp_path, rule_files={"a.yml": RULES})
    leftovers = [tmp_path / ".prometheus.yml.x1y2.tmp", tmp_path / "rules" / ".a.yml.k3j4.tmp",
                 tmp_path / ".prometheus.yml.last-good.q9.tmp"]
    for path in leftovers:
        path.write_text("half a fi")
    (tmp_path / ".unrelated.tmp").write_text("not ours")
    assert write(tmp_path, config=with_password("p"), rule_files={"a.yml": RULES}) is True
    assert [p for p in leftovers if p.exists()] == []
    assert (tmp_path / ".unrelated.tmp").exists()


def test_the_destination_is_replaced_by_a_rename_never_written_in_place(tmp_path):
    write(tmp_path)
    old = (tmp_path / "prometheus.yml").read_bytes()
    os.link(tmp_path / "prometheus.yml", tmp_path / "old-inode")  # a second name for the old file
    write(tmp_path, config=with_password("p"))
    assert (tmp_path / "old-inode").read_bytes() == old  # the old inode was never written to
    assert (tmp_path / "prometheus.yml").stat().st_ino != (tmp_path / "old-inode").stat().st_ino


def test_only_attributes_differ_changes_them_in_place(tmp_path):
    write(tmp_path)
    inode = (tmp_path / "prometheus.yml").stat().st_ino
    assert apply(plan(str(tmp_path / "prometheus.yml"), CONFIG, attributes=FileAttributes(mode=0o600)), None) is True
    assert stat.S_IMODE((tmp_path / "prometheus.yml").stat().st_mode) == 0o600
    assert (tmp_path / "prometheus.yml").stat().st_ino == inode


def test_the_owner_of_a_replaced_file_is_kept_when_none_is_given(tmp_path):
    write(tmp_path)
    st = (tmp_path / "prometheus.yml").stat()
    write(tmp_path, config=with_password("p"))
    assert ((tmp_path / "prometheus.yml").stat().st_uid, (tmp_path / "prometheus.yml").stat().st_gid) == (
        st.st_uid,
        st.st_gid,
    )


# --- last good ------------------------------------------------------------------------------------


def test_the_replaced_config_is_kept_as_last_good(tmp_path):
    write(tmp_path)
    first = (tmp_path / "prometheus.yml").read_bytes()
    write(tmp_path, config=with_password("p"))
    assert (tmp_path / "prometheus.yml.last-good").read_bytes() == first
    assert result(plan(str(tmp_path / "prometheus.yml"), CONFIG), False)["backup_path"] == str(
        tmp_path / "prometheus.yml.last-good"
    )


def test_an_invalid_installed_config_does_not_become_last_good(tmp_path):
    write(tmp_path)
    good = (tmp_path / "prometheus.yml").read_bytes()
    write(tmp_path, config=with_password("p"))  # last-good = good
    (tmp_path / "prometheus.yml").write_text("scrape_configs: [{job_name: x, scrape_timeout: 1m, scrape_interval: 1s}]")
    write(tmp_path)
    assert (tmp_path / "prometheus.yml.last-good").read_bytes() == good


def test_an_installed_config_promtool_refuses_does_not_become_last_good(tmp_path, fake_promtool):
    write(tmp_path)
    (fake_promtool / "fail").touch()
    with pytest.raises(CheckerError):
        write(tmp_path, config=with_password("p"), promtool=str(fake_promtool / "promtool"))
    assert not (tmp_path / "prometheus.yml.last-good").exists()


def test_a_first_write_has_no_last_good(tmp_path):
    written = plan(str(tmp_path / "prometheus.yml"), CONFIG)
    apply(written, None)
    assert not (tmp_path / "prometheus.yml.last-good").exists()
    assert result(written, True)["backup_path"] is None


def test_the_replaced_rule_files_are_kept_with_the_config(tmp_path):
    other = {"groups": [{"name": "other", "rules": [{"record": "x:up", "expr": "up"}]}]}
    write(tmp_path, rule_files={"a.yml": RULES})
    kept_rule = (tmp_path / "rules" / "a.yml").read_bytes()
    write(tmp_path, rule_files={"b.yml": other})
    kept = yaml.safe_load((tmp_path / "prometheus.yml.last-good-rules.json").read_text())
    assert kept == {"rules_dir": str(tmp_path / "rules"), "files": {"a.yml": kept_rule.decode()}}


def test_a_rules_only_change_updates_the_kept_rules(tmp_path):
    write(tmp_path, rule_files={"a.yml": RULES})
    write(tmp_path, rule_files={"a.yml": RULES, "b.yml": RULES})
    assert (tmp_path / "prometheus.yml.last-good").read_bytes() == (tmp_path / "prometheus.yml").read_bytes()
    kept = yaml.safe_load((tmp_path / "prometheus.yml.last-good-rules.json").read_text())
    assert sorted(kept["files"]) == ["a.yml"]


# --- restoring the last good files ----------------------------------------------------------------


def test_restore_puts_back_config_and_rules_and_removes_newer_rule_files(tmp_path):
    write(tmp_path, rule_files={"a.yml": RULES})
    before = listing(tmp_path / "rules"), (tmp_path / "prometheus.yml").read_bytes()
    write(tmp_path, config=with_password("p"), rule_files={"b.yml": RULES})
    touched = restore_last_good(str(tmp_path / "prometheus.yml"))
    assert touched == [str(tmp_path / "rules" / "a.yml"), str(tmp_path / "rules" / "b.yml"),
                       str(tmp_path / "prometheus.yml")]
    assert (tmp_path / "prometheus.yml").read_bytes() == before[1]
    assert {name: data for name, (data, _mtime, _ino) in listing(tmp_path / "rules").items()} == {
        name: data for name, (data, _mtime, _ino) in before[0].items()}


def test_restore_keeps_the_mode_of_the_config_and_leaves_no_temporary_file(tmp_path):
    write(tmp_path, rule_files={"a.yml": RULES}, attributes=FileAttributes(mode=0o640))
    write(tmp_path, config=with_password("p"), rule_files={}, attributes=FileAttributes(mode=0o640))
    restore_last_good(str(tmp_path / "prometheus.yml"))
    for path in [tmp_path / "prometheus.yml", tmp_path / "rules" / "a.yml"]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert not list(tmp_path.rglob("*.tmp"))


def test_restore_of_files_equal_to_the_last_good_ones_touches_nothing(tmp_path):
    write(tmp_path, rule_files={"a.yml": RULES})
    write(tmp_path, config=with_password("p"), rule_files={"a.yml": RULES})
    restore_last_good(str(tmp_path / "prometheus.yml"))
    files = listing(tmp_path)
    assert restore_last_good(str(tmp_path / "prometheus.yml")) == []
    assert listing(tmp_path) == files


def test_restore_without_a_copy_does_nothing(tmp_path):
    (tmp_path / "prometheus.yml").write_text("bad: 1\n")
    assert restore_last_good(str(tmp_path / "prometheus.yml")) == []
    assert (tmp_path / "prometheus.yml").read_text() == "bad: 1\n"


def test_restore_of_a_config_without_managed_rules_leaves_rule_files_alone(tmp_path):
    write(tmp_path)
    write(tmp_path, config=with_password("p"))
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "by-hand.yml").write_text("groups: []\n")
    assert restore_last_good(str(tmp_path / "prometheus.yml")) == [str(tmp_path / "prometheus.yml")]
    assert (tmp_path / "rules" / "by-hand.yml").exists()


def test_a_damaged_rules_copy_is_an_error_naming_it_and_the_config_stays(tmp_path):
    write(tmp_path, rule_files={"a.yml": RULES})
    write(tmp_path, config=with_password("p"), rule_files={"a.yml": RULES})
    (tmp_path / "prometheus.yml.last-good-rules.json").write_text("{not json")
    installed = (tmp_path / "prometheus.yml").read_bytes()
    with pytest.raises(ConfigFileError, match=r"prometheus.yml.last-good-rules.json is not a last-good rules file"):
        restore_last_good(str(tmp_path / "prometheus.yml"))
    assert (tmp_path / "prometheus.yml").read_bytes() == installed


def test_restore_never_writes_outside_the_rules_dir(tmp_path):
    write(tmp_path, rule_files={"a.yml": RULES})
    write(tmp_path, config=with_password("p"), rule_files={"a.yml": RULES})
    copy = tmp_path / "prometheus.yml.last-good-rules.json"
    copy.write_text(copy.read_text().replace('"a.yml"', '"../escape.yml"'))
    restore_last_good(str(tmp_path / "prometheus.yml"))
    assert not (tmp_path / "escape.yml").exists()


def test_mtime_is_the_newest_of_config_rule_files_and_rules_dir(tmp_path):
    write(tmp_path, rule_files={"a.yml": RULES, "b.yml": RULES})
    for path in [tmp_path / "prometheus.yml", tmp_path / "rules", tmp_path / "rules" / "a.yml"]:
        os.utime(path, (1000, 1000))
    os.utime(tmp_path / "rules" / "b.yml", (2000, 2000))
    both = {"a.yml": RULES, "b.yml": RULES}
    assert result(plan(str(tmp_path / "prometheus.yml"), CONFIG, both), False)["mtime"] == 2000
    write(tmp_path, rule_files={"a.yml": RULES})  # removes b.yml: only the directory's time moves
    assert result(plan(str(tmp_path / "prometheus.yml"), CONFIG, {"a.yml": RULES}), False)["mtime"] > 2000


def test_mtime_is_none_before_anything_is_written(tmp_path):
    assert result(plan(str(tmp_path / "prometheus.yml"), CONFIG, {}), False)["mtime"] is None


# --- stale rule files -----------------------------------------------------------------------------


def test_rule_files_no_longer_listed_are_removed_other_files_are_kept(tmp_path):
    write(tmp_path, rule_files={"a.yml": RULES, "b.yml": RULES})
    (tmp_path / "rules" / "README").write_text("not loaded by Prometheus")
    (tmp_path / "rules" / "c.yaml").write_text("not loaded by the *.yml glob")
    assert write(tmp_path, rule_files={"a.yml": RULES}) is True
    assert sorted(p.name for p in (tmp_path / "rules").iterdir()) == ["README", "a.yml", "c.yaml"]


def test_an_unknown_yml_file_in_rules_dir_is_removed(tmp_path):
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "by-hand.yml").write_text("groups: []\n")
    assert write(tmp_path, rule_files={}) is True
    assert list((tmp_path / "rules").iterdir()) == []


def test_without_rule_files_rules_dir_is_left_alone(tmp_path):
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "by-hand.yml").write_text("groups: []\n")
    write(tmp_path)
    assert (tmp_path / "rules" / "by-hand.yml").exists()


# --- diff and result ------------------------------------------------------------------------------


def test_diff_redacts_secrets_before_and_after(tmp_path):
    write(tmp_path, config=with_password("old-secret"))
    changes = diff(plan(str(tmp_path / "prometheus.yml"), with_password("new-secret"), {"a.yml": RULES}))
    text = repr(changes)
    assert "old-secret" not in text and "new-secret" not in text
    config_diff = changes[0]
    assert "password: <redacted>" in config_diff["before"]
    assert "password: <redacted>" in config_diff["after"]
    assert [d["after_header"] for d in changes[1:]] == [str(tmp_path / "rules" / "a.yml")]
    assert changes[1]["before"] == "" and changes[1]["after"] == render(RULES).decode()


def test_diff_header_says_when_only_a_secret_changed(tmp_path):
    write(tmp_path, config=with_password("old-secret"))
    (config_diff,) = diff(plan(str(tmp_path / "prometheus.yml"), with_password("new-secret")))
    assert config_diff["before"] == config_diff["after"]
    assert config_diff["after_header"].endswith("a redacted value changed")


def test_diff_shows_a_removed_rule_file(tmp_path):
    write(tmp_path, rule_files={"a.yml": RULES, "b.yml": RULES})
    (removed,) = diff(plan(str(tmp_path / "prometheus.yml"), CONFIG, {"a.yml": RULES}))
    assert (removed["before_header"], removed["before"], removed["after"]) == (
        str(tmp_path / "rules" / "b.yml"),
        render(RULES).decode(),
        "",
    )


def test_diff_of_an_unchanged_config_is_empty(tmp_path):
    write(tmp_path)
    assert diff(plan(str(tmp_path / "prometheus.yml"), CONFIG)) == []


def test_result_config_is_redacted(tmp_path):
    returned = result(plan(str(tmp_path / "prometheus.yml"), with_password("s3cret")), True)
    assert returned["config"]["scrape_configs"][1]["basic_auth"] == {"username": "scraper", "password": "<redacted>"}
    assert "s3cret" not in repr(returned)


# --- check mode and failures ----------------------------------------------------------------------


def test_check_mode_reports_the_change_and_writes_nothing(tmp_path, fake_promtool):
    write(tmp_path, rule_files={"a.yml": RULES, "b.yml": RULES})
    before = listing(tmp_path)
    planned = plan(str(tmp_path / "prometheus.yml"), with_password("p"), {"a.yml": RULES, "c.yml": RULES})
    check(planned, promtool_config(str(fake_promtool / "promtool")))
    assert planned.changed is True
    assert listing(tmp_path) == before


def test_check_mode_on_a_missing_rules_dir_does_not_create_it(tmp_path, fake_promtool):
    planned = plan(str(tmp_path / "prometheus.yml"), CONFIG, {"a.yml": RULES})
    check(planned, promtool_config(str(fake_promtool / "promtool")))
    assert list(tmp_path.iterdir()) == []
    checked = yaml.safe_load((fake_promtool / "checked.yml").read_text())
    assert len(checked["rule_files"]) == 1 and not checked["rule_files"][0].startswith(str(tmp_path))


def test_check_mode_fails_like_apply_when_promtool_refuses(tmp_path, fake_promtool):
    (fake_promtool / "fail").touch()
    planned = plan(str(tmp_path / "prometheus.yml"), CONFIG, {"a.yml": RULES})
    with pytest.raises(CheckerError, match="bad expression"):
        check(planned, promtool_config(str(fake_promtool / "promtool")))
    assert list(tmp_path.iterdir()) == []


def test_an_engine_error_is_raised_before_anything_is_written(tmp_path):
    write(tmp_path)
    before = listing(tmp_path)
    bad = {"scrape_configs": [{"job_name": "slow", "scrape_interval": "10s", "scrape_timeout": "30s",
                               "static_configs": [{"targets": ["a:1"]}]}]}
    with pytest.raises(ConfigError, match="slow"):
        plan(str(tmp_path / "prometheus.yml"), bad, {"a.yml": RULES}, engine=ENGINE)
    assert listing(tmp_path) == before


def test_promtool_checks_the_staged_rule_files_in_place_of_the_glob(tmp_path, fake_promtool):
    write(tmp_path, rule_files={"a.yml": RULES, "b.yml": RULES}, promtool=str(fake_promtool / "promtool"))
    checked = yaml.safe_load((fake_promtool / "checked.yml").read_text())
    staged = checked["rule_files"]
    assert [os.path.dirname(p) for p in staged] == [str(tmp_path / "rules")] * 2
    assert [os.path.basename(p).split(".yml.")[0] for p in staged] == [".a", ".b"]
    assert all(p.endswith(".tmp") for p in staged)
    assert dict(checked, rule_files=None) == dict(CONFIG, rule_files=None)


def test_validation_copy_makes_other_relative_rule_files_absolute(tmp_path):
    planned = plan(str(tmp_path / "prometheus.yml"), dict(CONFIG, rule_files=["alerts/*.yml"]), {"a.yml": RULES})
    copy = yaml.safe_load(validation_copy(planned, {"a.yml": "/staged/a.yml"}))
    assert copy["rule_files"] == [str(tmp_path / "alerts" / "*.yml"), "/staged/a.yml"]


def test_promtool_refusal_changes_nothing_and_names_the_final_files(tmp_path, fake_promtool):
    write(tmp_path, rule_files={"a.yml": RULES})
    before = listing(tmp_path)
    (fake_promtool / "fail").touch()
    promtool = str(fake_promtool / "promtool")
    with pytest.raises(CheckerError) as caught:
        write(tmp_path, config=with_password("p"), rule_files={"b.yml": RULES}, promtool=promtool)
    assert listing(tmp_path) == before
    assert "FAILED: %s: bad expression in the rules" % (tmp_path / "prometheus.yml") in str(caught.value)
    assert ".tmp" not in str(caught.value)


def test_promtool_refusal_removes_a_rules_dir_it_created(tmp_path, fake_promtool):
    (fake_promtool / "fail").touch()
    with pytest.raises(CheckerError):
        write(tmp_path, rule_files={"a.yml": RULES}, promtool=str(fake_promtool / "promtool"))
    assert list(tmp_path.iterdir()) == []


def test_validate_with_promtool_always_needs_promtool(tmp_path):
    with pytest.raises(ConfigFileError, match="validate_with_promtool=always but promtool at /nowhere/promtool"):
        find_binary("/nowhere/promtool", "always", "promtool", "promtool")
    assert find_binary("/nowhere/promtool", "auto", "promtool", "promtool") is None
    assert find_binary(None, "never", "promtool", "promtool") is None


def test_a_missing_directory_is_an_error(tmp_path):
    with pytest.raises(ConfigFileError, match="the directory of path .* does not exist"):
        plan(str(tmp_path / "missing" / "prometheus.yml"), CONFIG)

#!/usr/bin/env bash
# Check a Molecule scenario without running it (no Docker, no kind, nothing converged):
#
#   bash scripts/molecule_syntax.sh kind      # extensions/molecule/kind
#
# 1. `ansible-playbook --syntax-check` on every playbook of the scenario directory (every YAML file
#    holding a list of plays: create, converge, verify, destroy, ...), and so on the playbooks they
#    import and the roles those list, against the scenario's own inventory: provisioner.inventory of
#    molecule.yml, written to a temporary file. Molecule's ${VAR} placeholders get the value of the
#    environment, else their ${VAR:-default}, else a dummy (MOLECULE_EPHEMERAL_DIRECTORY: a temporary
#    directory; MOLECULE_PROJECT_DIRECTORY, MOLECULE_SCENARIO_DIRECTORY: the real ones).
# 2. `yamllint --strict` (the repository's .yamllint) on the scenario directory and on
#    .github/workflows/<scenario>.yml when there is one.
# Exits non-zero when any check fails; every check runs regardless.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
VENV=$ROOT/.venv

log() { printf 'molecule syntax: %s\n' "$*"; }
die() { printf 'molecule syntax: ERROR: %s\n' "$*" >&2; exit 1; }

[[ $# -eq 1 ]] || die "usage: $0 SCENARIO (a directory of extensions/molecule)"
scenario=$1
scenario_dir=extensions/molecule/$scenario
[[ -f $scenario_dir/molecule.yml ]] || die "no $scenario_dir/molecule.yml"
[[ -x $VENV/bin/ansible-playbook ]] || die "no $VENV/bin/ansible-playbook: run scripts/setup.sh (make setup) first"
export PATH=$VENV/bin:$PATH
export ANSIBLE_HOME=${ANSIBLE_HOME:-$ROOT/.tmp/ansible-home}
export ANSIBLE_LOCAL_TEMP=${ANSIBLE_LOCAL_TEMP:-$ROOT/.tmp/ansible-local}
export ANSIBLE_CONFIG=${ANSIBLE_CONFIG:-$ROOT/ansible.cfg}
export NO_COLOR=1 PY_COLORS=0

mkdir -p "$ROOT/.tmp"
work=$(mktemp -d "$ROOT/.tmp/molecule-syntax.XXXXXX")
trap 'rm -rf "$work"' EXIT
# What the playbooks may look up; nothing is written there by a syntax check.
export MOLECULE_EPHEMERAL_DIRECTORY=$work/ephemeral
export MOLECULE_PROJECT_DIRECTORY=$ROOT
export MOLECULE_SCENARIO_DIRECTORY=$ROOT/$scenario_dir
export MOLECULE_SCENARIO_NAME=$scenario
mkdir -p "$MOLECULE_EPHEMERAL_DIRECTORY"
inventory=$work/inventory.yml

# The inventory, and the playbooks of the scenario (one per line).
playbooks=$(python - "$scenario_dir" "$inventory" <<'PY'
import os
import re
import sys
from pathlib import Path

import yaml

scenario_dir, inventory = Path(sys.argv[1]), sys.argv[2]

# Molecule's interpolation: $$ is a literal $, ${VAR}, ${VAR:-default} (unset or empty), ${VAR-default}.
def substitute(match):
    if match.group(0) == "$$":
        return "$"
    name, sep, default = match.group(1), match.group(2), match.group(3)
    value = os.environ.get(name)
    if (sep == ":-" and not value) or (sep == "-" and value is None):
        return default
    return value if value is not None else "dummy-" + name.lower()

text = re.sub(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}", substitute,
              (scenario_dir / "molecule.yml").read_text())
config = yaml.safe_load(text)
section = (config.get("provisioner") or {}).get("inventory") or {}
hosts = section.get("hosts") or {"all": {}}
root = hosts.setdefault("all", {}) or {}
hosts["all"] = root
# group_vars and host_vars of provisioner.inventory, folded into the one inventory file.
for group, group_vars in (section.get("group_vars") or {}).items():
    if group == "all":
        node = root
    else:
        root["children"] = root.get("children") or {}
        node = root["children"][group] = root["children"].get(group) or {}
    node["vars"] = {**(node.get("vars") or {}), **(group_vars or {})}
for host, host_vars in (section.get("host_vars") or {}).items():
    root["hosts"] = root.get("hosts") or {}
    root["hosts"][host] = {**(root["hosts"].get(host) or {}), **(host_vars or {})}
Path(inventory).write_text(yaml.safe_dump(hosts, sort_keys=False))

# A playbook is a YAML list of plays (mappings with hosts or an import_playbook).
for path in sorted(scenario_dir.glob("*.y*ml")):
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError:
        data = None  # yamllint reports it
    if isinstance(data, list) and data and all(
        isinstance(play, dict)
        and ("hosts" in play or "import_playbook" in play or "ansible.builtin.import_playbook" in play)
        for play in data
    ):
        print(path)
    else:
        print("molecule syntax: not a playbook, skipped: %s" % path, file=sys.stderr)
PY
) || die "could not read $scenario_dir/molecule.yml"
[[ -n $playbooks ]] || die "no playbook in $scenario_dir"
hosts=$(ansible all -i "$inventory" --list-hosts | tail -n +2 | xargs) || die "ansible cannot read the inventory of $scenario_dir/molecule.yml"
log "inventory of $scenario_dir/molecule.yml: $hosts"

failed=()
while IFS= read -r playbook; do
    log "ansible-playbook --syntax-check -i <inventory> $playbook"
    if ! ansible-playbook --syntax-check -i "$inventory" "$playbook"; then
        failed+=("$playbook")
    fi
done <<<"$playbooks"

yaml_paths=("$scenario_dir")
[[ -f .github/workflows/$scenario.yml ]] && yaml_paths+=(".github/workflows/$scenario.yml")
log "yamllint --strict ${yaml_paths[*]}"
yamllint --strict --format standard "${yaml_paths[@]}" || failed+=("yamllint")

if [[ ${#failed[@]} -gt 0 ]]; then
    log "FAILED: ${failed[*]}"
    exit 1
fi
log "passed: $(wc -l <<<"$playbooks") playbooks ($(paste -sd' ' <<<"$playbooks")), yamllint on ${yaml_paths[*]}"

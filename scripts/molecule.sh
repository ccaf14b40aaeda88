#!/usr/bin/env bash
# Run a Molecule scenario on free ports under a scratch root: scripts/molecule.sh [scenario]
set -euo pipefail
cd "$(dirname "$0")/.."
scenario=${1:-default}
root=$PWD/.tmp/molecule-$scenario
# The root is kept across runs: the scenario's first step (cleanup) tears down what an
# interrupted run left there, through the same supervisord configuration.
mkdir -p "$root" && chmod 0755 "$PWD/.tmp" "$root"
read -r eu us global third node < <(.venv/bin/python -c '
import sys; sys.path.insert(0, "tests/support")
from fleet import free_ports; print(*free_ports(5))')
export PROMFLEET_MOLECULE_ROOT=$root PROMFLEET_MOLECULE_PORT_EU=$eu PROMFLEET_MOLECULE_PORT_US=$us \
  PROMFLEET_MOLECULE_PORT_GLOBAL=$global PROMFLEET_MOLECULE_PORT_THIRD=$third PROMFLEET_MOLECULE_PORT_NODE=$node
# Prometheus 3 as `make site` installs it: the release tarball scripts/releases.py made (checksum checked).
read -r version tarball sha256 < <(.venv/bin/python -c '
import sys; sys.path.insert(0, "tests/support")
import releases; entry = releases.release(releases.DEFAULT); print(entry["version"], entry["tarball"], entry["sha256"])')
export PROMFLEET_MOLECULE_PROMETHEUS_VERSION=$version PROMFLEET_MOLECULE_PROMETHEUS_TARBALL=$tarball \
  PROMFLEET_MOLECULE_PROMETHEUS_SHA256=$sha256
export PATH=$PWD/.venv/bin:$PATH TMPDIR=$root/tmp ANSIBLE_HOME=${ANSIBLE_HOME:-$PWD/.tmp/ansible-home}
mkdir -p "$TMPDIR"
echo "molecule $scenario: root $root, ports eu=$eu us=$us global=$global third=$third node=$node, Prometheus $version"
status=0
molecule test -s "$scenario" || status=$?
[ "$status" -ne 0 ] || rm -rf "$root"
exit $status

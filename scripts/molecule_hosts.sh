#!/usr/bin/env bash
# The Molecule scenario `hosts` on the test bed of real machines (Debian hosts booting systemd in
# podman containers, reached over SSH): scripts/molecule_hosts.sh
# Starts the bed (tests/support/testbed.py up: its containers and networks named pfm-*, so that it
# does not touch the bed of tests/hosts), hands its inventory to Molecule, runs `molecule test -s
# hosts`, and removes the bed whatever happens. Needs root and podman (`make setup`).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD/.tmp/molecule-hosts
state=$root/bed.json
# A fresh root each time: the fleet CA, the inventory and the report of this run.
rm -rf "$root" && mkdir -p "$root"
export PATH=$PWD/.venv/bin:$PATH ANSIBLE_HOME=${ANSIBLE_HOME:-$PWD/.tmp/ansible-home}
started=$SECONDS

python tests/support/testbed.py up --state "$state" --inventory "$root/hosts.yml" --root "$root" \
  >"$root/bed.log" 2>&1 &
bed=$!
down() {
  status=$?
  if kill -TERM "$bed" 2>/dev/null; then
    wait "$bed" 2>/dev/null || true
  fi
  python tests/support/testbed.py down --state "$state" || status=1
  echo "molecule hosts: bed removed; $((SECONDS - started)) s in all"
  exit "$status"
}
trap down EXIT
trap 'exit 130' INT TERM

# Until the hosts run (the state file appears), or the bed fails to start.
until [ -s "$state" ]; do
  if ! kill -0 "$bed" 2>/dev/null; then
    echo "molecule hosts: the test bed did not start:" >&2
    cat "$root/bed.log" >&2
    exit 1
  fi
  sleep 0.5
done
cat "$root/bed.log"

export PROMFLEET_MOLECULE_HOSTS_INVENTORY=$root/hosts.yml
molecule test -s hosts

#!/usr/bin/env bash
# Stop the cluster that scripts/kube/start.sh started in DIR and remove its etcd data, so the next
# start begins empty. Certificates, tokens and logs stay. Safe to run again, or on a DIR where
# nothing runs.
#
#   scripts/kube/stop.sh DIR
set -euo pipefail

die() { printf 'kube stop: ERROR: %s\n' "$*" >&2; exit 1; }
[[ $# -eq 1 ]] || die "usage: $0 DIR"
[[ -d $1 ]] || exit 0
dir=$(readlink -f "$1")

# shellcheck source=scripts/kube/daemons.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/daemons.sh"

# clients first, etcd last; up to 10 s each before SIGKILL
for what in kube-controller-manager kube-apiserver etcd; do
    stop_daemon "$what" 100
done
rm -rf "$dir/etcd"

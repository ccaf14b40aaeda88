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

# Zombies count as gone: whoever inherited our daemons may never reap them.
alive() {
    local state
    state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
    [[ $state != Z ]]
}
# A saved pid is ours only while its command line still names DIR (pids get reused).
ours() {
    local cmdline
    alive "$1" && cmdline=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) && [[ $cmdline == *"$dir/"* ]]
}

# clients first, etcd last
for what in kube-controller-manager kube-apiserver etcd; do
    pidfile=$dir/pids/$what.pid
    [[ -f $pidfile ]] || continue
    pid=$(<"$pidfile")
    if ours "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 50); do
            alive "$pid" || break
            sleep 0.2
        done
        ! alive "$pid" || kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
done
rm -rf "$dir/etcd"

#!/usr/bin/env bash
# Stop the node that node-start.sh started in DIR and leave nothing of it: daemons, pod containers
# and their shims, mounts, cgroups, the network namespace (its veth, bridge and iptables rules go
# with it), the host's routes, and with the last node the host paths the kubelet and containerd
# hard-code. Then remove DIR. Safe to run again, or on a DIR where nothing runs.
#
#   scripts/kube/node-stop.sh DIR
set -uo pipefail

die() { printf 'kube node stop: ERROR: %s\n' "$*" >&2; exit 1; }
[[ $# -eq 1 ]] || die "usage: $0 DIR"
[[ -d $1 ]] || exit 0
dir=$(readlink -f "$1")
[[ -f $dir/node.env ]] || { rm -rf "$dir"; exit 0; }
# shellcheck source=/dev/null
source "$dir/node.env"

# shellcheck source=scripts/kube/daemons.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/daemons.sh"
# the kubelet first, so it restarts no container; the API server is killed at once: its data goes
for what in kubelet kube-proxy kube-scheduler kube-controller-manager; do stop_daemon "$what"; done
stop_daemon kube-apiserver 1
stop_daemon etcd

socket=$dir/containerd/containerd.sock
if [[ -S $socket ]]; then
    for task in $(ctr -a "$socket" -n k8s.io tasks ls -q 2>/dev/null); do
        ctr -a "$socket" -n k8s.io tasks kill -s SIGKILL "$task" 2>/dev/null
    done
    sleep 0.3
fi
stop_daemon containerd
# the shims outlive containerd; each names the socket on its command line
for pid in $(pgrep -f containerd-shim-runc-v2); do
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-address $socket" && kill -KILL "$pid" 2>/dev/null
done
# what is left in the node's cgroups (a container whose shim went first)
find "/sys/fs/cgroup/pids/${CGROUP_ROOT#/}" -name cgroup.procs -exec cat {} + 2>/dev/null |
    while read -r pid; do kill -KILL "$pid" 2>/dev/null; done
sleep 0.2

findmnt -rn -o TARGET | grep -F "$dir/" | sort -r | while read -r mount; do umount -l "$mount" 2>/dev/null; done
for hierarchy in /sys/fs/cgroup/*/; do
    [[ -d $hierarchy${CGROUP_ROOT#/} ]] || continue
    find "$hierarchy${CGROUP_ROOT#/}" -depth -type d -exec rmdir {} + 2>/dev/null
done
ip route del "$POD_CIDR" via "$NODE_IP" 2>/dev/null
ip route del "$SERVICE_CIDR" via "$NODE_IP" 2>/dev/null
ip netns del "$NODE_NETNS" 2>/dev/null
ip link del "$NODE_VETH" 2>/dev/null # gone with the namespace, unless the namespace was half made

registry=/run/promfleet-kube-nodes
rm -f "$registry/$NODE_NAME.node"
if [[ -d $registry && -z $(find "$registry" -name '*.node' -print -quit) ]]; then
    for path in /var/log/pods /var/log/containers /var/lib/kubelet /run/containerd; do
        grep -qxF "$path" "$registry/preexisting" 2>/dev/null || rm -rf "$path"
    done
    rm -rf "$registry"
fi
rm -rf "$dir"

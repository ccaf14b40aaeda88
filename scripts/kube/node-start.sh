#!/usr/bin/env bash
# Start one real single-node Kubernetes 1.20 cluster, whose pods run: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kubelet with containerd and runc, CNI bridge networking
# and kube-proxy (iptables), all in one network namespace of their own.
#
#   scripts/kube/node-start.sh NAME DIR INDEX   # prints DIR/kubeconfig on stdout once the node is Ready
#
# INDEX (0-15) keeps clusters that run side by side apart: the veth link 172.31.(240+INDEX).0/30
# (host .1, node .2: the node IP, where the API server, the kubelet and NodePorts answer), pods in
# 10.(240+INDEX).0.0/24 and Services in 10.(224+INDEX).0.0/24, both routed from the host, and the
# kubelet's cgroups under /promfleet-NAME. DIR holds everything else: pki/, tokens, kubeconfigs,
# etcd/, containerd/, kubelet/, logs/, pids/ and node.env (the addresses). Stop with node-stop.sh DIR.
#
# - Credentials: a CA per cluster; the API server and the kubelet serve certificates of it; each
#   component has its own token (authorization Node,RBAC); the API server reaches the kubelet with a
#   client certificate and verifies it; the kubelet authenticates and authorizes every request
#   through the API server (no anonymous access, no read-only port).
# - The images are those of images.sh, imported into the node's own containerd; pods use
#   imagePullPolicy Never or IfNotPresent: there is no registry. The image GC never removes them.
# - Nothing runs inside the namespace but the cluster, so the components keep their default ports.
#   It has no default route: the kubelet's cloud credential lookup would wait on it for 6 s.
#
# Environment: KUBE_BIN (default: build.sh's cache), KUBE_IMAGES (default: images.sh's cache),
# KUBELET_SYNC (the kubelet's syncFrequency; default 1m, the kubelet's own), KUBE_START_TIMEOUT
# (seconds, default 120). Needs root, ip, nsenter, iptables, containerd, ctr, openssl and curl.
set -euo pipefail

here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
log() { printf 'kube node: %s\n' "$*" >&2; }
die() { printf 'kube node: ERROR: %s\n' "$*" >&2; exit 1; }

[[ $# -eq 3 ]] || die "usage: $0 NAME DIR INDEX"
name=$1 index=$3
[[ $name =~ ^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$ ]] ||
    die "NAME must be at most 22 lowercase letters, digits and '-': $name"
[[ $index =~ ^([0-9]|1[0-5])$ ]] || die "INDEX must be 0 to 15: $index"
[[ $EUID -eq 0 ]] || die "run as root: the node needs a network namespace, cgroups and mounts"
for tool in ip nsenter iptables containerd ctr openssl curl base64; do
    command -v "$tool" >/dev/null || die "$tool is not on PATH; run scripts/setup.sh (it installs it from Debian)"
done
[[ -x /usr/lib/cni/bridge ]] || die "no CNI plugins in /usr/lib/cni; run scripts/setup.sh (containernetworking-plugins)"
bin=${KUBE_BIN:-$("$here/build.sh" --print-dir)}
for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy; do
    [[ -x $bin/$b ]] || die "no $bin/$b: run scripts/kube/build.sh first"
done
images=${KUBE_IMAGES:-$("$here/images.sh" --print-dir)}
[[ -f $images/images.env ]] || die "no images in $images: run scripts/kube/images.sh first"
# shellcheck source=/dev/null
source "$images/images.env"

mkdir -p "$2"
dir=$(readlink -f "$2")
[[ ! -f $dir/node.env ]] || die "a node was started in $dir and not stopped: run $here/node-stop.sh $dir"
netns=promfleet-$name
host_ip=172.31.$((240 + index)).1
node_ip=172.31.$((240 + index)).2
pod_cidr=10.$((240 + index)).0.0/24
service_cidr=10.$((224 + index)).0.0/24
service_ip=10.$((224 + index)).0.1
cgroup_root=/promfleet-$name
veth=pfk$index-$name
veth=${veth:0:15}
[[ ! -e /run/netns/$netns ]] || die "network namespace $netns exists: another node named $name runs"
for net in "172.31.$((240 + index)).0/30" "$pod_cidr" "$service_cidr"; do
    [[ -z $(ip route show to match "${net%/*}" | grep -v '^default' || true) ]] ||
        die "the host already routes $net (another node with INDEX $index?): pick another INDEX"
done
timeout=${KUBE_START_TIMEOUT:-120}
started=$SECONDS
ready=
# a start that does not finish stops whatever it started
trap '[[ -n $ready ]] || "$here/node-stop.sh" "$dir" >/dev/null 2>&1 || true' EXIT

mkdir -p "$dir"/{pki,logs,pids,etcd,cni/net.d,cni/ipam,kubelet,containerd}
chmod 0700 "$dir/pki" "$dir/etcd"
printf '%s\n' "NODE_NAME=$name" "NODE_NETNS=$netns" "NODE_IP=$node_ip" "HOST_IP=$host_ip" "NODE_VETH=$veth" \
    "POD_CIDR=$pod_cidr" "SERVICE_CIDR=$service_cidr" "CGROUP_ROOT=$cgroup_root" >"$dir/node.env"

# --- host paths the kubelet 1.20 and containerd 1.6 hard-code, shared by every node here -----------
# node-stop.sh removes them with the last node, unless they were there before the first one.
registry=/run/promfleet-kube-nodes
mkdir -p "$registry"
if [[ -z $(find "$registry" -name '*.node' -print -quit) ]]; then
    : >"$registry/preexisting"
    for path in /var/log/pods /var/log/containers /var/lib/kubelet /run/containerd; do
        [[ ! -e $path ]] || echo "$path" >>"$registry/preexisting"
    done
fi
echo "$dir" >"$registry/$name.node"

# --- network namespace, veth, routes, cgroup root ----------------------------------------------------
ip netns add "$netns"
ip link add "$veth" type veth peer name eth0 netns "$netns"
ip addr add "$host_ip/30" dev "$veth"
ip link set "$veth" up
ip -n "$netns" link set lo up
ip -n "$netns" addr add "$node_ip/30" dev eth0
ip -n "$netns" link set eth0 up
ip route add "$pod_cidr" via "$node_ip"
ip route add "$service_cidr" via "$node_ip"
# `nsenter --net`, not `ip netns exec`: the latter remounts /sys and hides the cgroup mounts
in_node() { nsenter --net="/run/netns/$netns" "$@"; }
modprobe br_netfilter 2>/dev/null || true
in_node sysctl -qw net.ipv4.ip_forward=1
in_node sysctl -qw net.bridge.bridge-nf-call-iptables=1 2>/dev/null ||
    log "net.bridge.bridge-nf-call-iptables is not settable: a pod may not reach a Service of its own node"
# The kubelet's cgroup root, in every hierarchy: two kubelets under one root would each remove the
# other's pods as orphans. A cpuset cgroup needs its CPUs and memory nodes before it takes tasks.
for hierarchy in /sys/fs/cgroup/*/; do
    [[ -e ${hierarchy}cgroup.procs && ! -L ${hierarchy%/} ]] || continue
    mkdir -p "$hierarchy${cgroup_root#/}"
    if [[ -f ${hierarchy}cpuset.cpus ]]; then
        cat "${hierarchy}cpuset.cpus" >"$hierarchy${cgroup_root#/}/cpuset.cpus"
        cat "${hierarchy}cpuset.mems" >"$hierarchy${cgroup_root#/}/cpuset.mems"
    fi
done

# --- credentials ---------------------------------------------------------------------------------------
pki=$dir/pki
ssl() { openssl "$@" 2>/dev/null; }
ssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -days 3650 \
    -subj "/CN=promfleet-$name-ca" -keyout "$pki/ca.key" -out "$pki/ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
certificate() { # file subject extended-key-usage [subject-alt-names]
    printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n' >"$pki/$1.ext"
    printf 'extendedKeyUsage=%s\n' "$3" >>"$pki/$1.ext"
    [[ -z ${4:-} ]] || printf 'subjectAltName=%s\n' "$4" >>"$pki/$1.ext"
    ssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -subj "$2" \
        -keyout "$pki/$1.key" -out "$pki/$1.csr"
    ssl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 3650 \
        -extfile "$pki/$1.ext" -out "$pki/$1.crt"
}
certificate apiserver /CN=kube-apiserver serverAuth "IP:$node_ip,IP:127.0.0.1,IP:$service_ip,DNS:localhost,\
DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
certificate kubelet-client /O=system:masters/CN=kube-apiserver-kubelet-client clientAuth
certificate kubelet "/CN=$name" serverAuth "IP:$node_ip,DNS:$name"
ssl genrsa -out "$pki/sa.key" 2048
ssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub"
token() { openssl rand -hex 24; }
admin_token=$(token)
kcm_token=$(token)
scheduler_token=$(token)
kubelet_token=$(token)
proxy_token=$(token)
(
    umask 077
    printf '%s\n' "$admin_token,admin,admin,system:masters" "$kcm_token,system:kube-controller-manager,kcm" \
        "$scheduler_token,system:kube-scheduler,scheduler" "$kubelet_token,system:node:$name,kubelet,system:nodes" \
        "$proxy_token,system:kube-proxy,proxy" >"$dir/tokens.csv"
)
kubeconfig() { # file user token
    (
        umask 077
        printf '%s\n' "apiVersion: v1" "kind: Config" "clusters:" "- name: $name" "  cluster:" \
            "    server: https://$node_ip:6443" "    certificate-authority-data: $(base64 -w0 "$pki/ca.crt")" \
            "users:" "- name: $2" "  user:" "    token: $3" "contexts:" "- name: $name" "  context:" \
            "    cluster: $name" "    user: $2" "current-context: $name" >"$1"
    )
}
kubeconfig "$dir/kubeconfig" "$name-admin" "$admin_token"
kubeconfig "$dir/kube-controller-manager.kubeconfig" system:kube-controller-manager "$kcm_token"
kubeconfig "$dir/kube-scheduler.kubeconfig" system:kube-scheduler "$scheduler_token"
kubeconfig "$dir/kubelet.kubeconfig" "system:node:$name" "$kubelet_token"
kubeconfig "$dir/kube-proxy.kubeconfig" system:kube-proxy "$proxy_token"

# shellcheck source=scripts/kube/daemons.sh
source "$here/daemons.sh"
# launch NAME COMMAND...: in the namespace, detached from our stdin and stdout; bash execs nsenter,
# which execs the command, so $! is the daemon's pid
launch() {
    local what=$1
    shift
    nsenter --net="/run/netns/$netns" "$@" </dev/null >"$dir/logs/$what.log" 2>&1 &
    echo $! >"$dir/pids/$what.pid"
}
# wait_until WHAT COMMAND...: until COMMAND succeeds, while every daemon lives and time is left
wait_until() {
    local what=$1
    shift
    until "$@" >/dev/null 2>&1; do
        daemons_alive "$what"
        ((SECONDS - started < timeout)) || die "no $what after $timeout s (logs: $dir/logs)"
        sleep 0.3
    done
}

# --- containerd, and the images ------------------------------------------------------------------------
socket=$dir/containerd/containerd.sock
sed -e "s#@DIR@#$dir#g" -e "s#@PAUSE_IMAGE@#$PAUSE_IMAGE#g" "$here/containerd.toml.in" >"$dir/containerd.toml"
printf '%s\n' '{"cniVersion": "0.4.0", "name": "promfleet-'"$name"'", "plugins": [' \
    '  {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true, "hairpinMode": true,' \
    '   "ipam": {"type": "host-local", "ranges": [[{"subnet": "'"$pod_cidr"'"}]], "routes": [{"dst": "0.0.0.0/0"}],' \
    '            "dataDir": "'"$dir"'/cni/ipam"}},' \
    '  {"type": "portmap", "capabilities": {"portMappings": true}}]}' >"$dir/cni/net.d/10-promfleet.conflist"
launch containerd containerd --config "$dir/containerd.toml"
wait_until containerd ctr -a "$socket" version
for archive in "$images"/*.tar; do
    ctr -a "$socket" -n k8s.io images import "$archive" >/dev/null
done

# --- control plane --------------------------------------------------------------------------------------
launch etcd "$bin/etcd" --name "$name" --data-dir "$dir/etcd" --logger zap \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster "$name=http://127.0.0.1:2380"
launch kube-apiserver "$bin/kube-apiserver" --etcd-servers http://127.0.0.1:2379 \
    --bind-address 0.0.0.0 --advertise-address "$node_ip" --secure-port 6443 \
    --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" --client-ca-file "$pki/ca.crt" \
    --token-auth-file "$dir/tokens.csv" --authorization-mode Node,RBAC \
    --kubelet-client-certificate "$pki/kubelet-client.crt" --kubelet-client-key "$pki/kubelet-client.key" \
    --kubelet-certificate-authority "$pki/ca.crt" --kubelet-preferred-address-types InternalIP \
    --service-cluster-ip-range "$service_cidr" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --api-audiences https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" --profiling=false
api() { curl -fsS --max-time 5 --cacert "$pki/ca.crt" -H "Authorization: Bearer $admin_token" "https://$node_ip:6443$1"; }
wait_until "API server" api /readyz
log "$name: API server ready after $((SECONDS - started)) s"
# --port 0: no plain HTTP ports (1.20 still opens them by default)
launch kube-controller-manager "$bin/kube-controller-manager" --kubeconfig "$dir/kube-controller-manager.kubeconfig" \
    --use-service-account-credentials --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
    --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" \
    --leader-elect=false --bind-address 127.0.0.1 --secure-port 0 --port 0 --profiling=false \
    --controllers '*,-service,-cloud-node-lifecycle'
launch kube-scheduler "$bin/kube-scheduler" --kubeconfig "$dir/kube-scheduler.kubeconfig" --leader-elect=false \
    --port 0 --secure-port 0 --profiling=false

# --- the node -------------------------------------------------------------------------------------------
sed -e "s#@DIR@#$dir#g" -e "s#@NODE_IP@#$node_ip#g" -e "s#@CGROUP_ROOT@#$cgroup_root#g" \
    -e "s#@SYNC@#${KUBELET_SYNC:-1m}#g" "$here/kubelet.yaml.in" >"$dir/kubelet.yaml"
launch kubelet "$bin/kubelet" --config "$dir/kubelet.yaml" --kubeconfig "$dir/kubelet.kubeconfig" \
    --container-runtime remote --container-runtime-endpoint "unix://$socket" --runtime-request-timeout 5m \
    --root-dir "$dir/kubelet" --cert-dir "$dir/kubelet/pki" --hostname-override "$name" --node-ip "$node_ip" --v 1
launch kube-proxy "$bin/kube-proxy" --kubeconfig "$dir/kube-proxy.kubeconfig" --hostname-override "$name" \
    --bind-address "$node_ip" --cluster-cidr "$pod_cidr" --proxy-mode iptables \
    --conntrack-max-per-core 0 --conntrack-tcp-timeout-established 0 --conntrack-tcp-timeout-close-wait 0 \
    --metrics-bind-address 127.0.0.1:10249 --healthz-bind-address 127.0.0.1:10256 --profiling=false
node_ready() { api "/api/v1/nodes/$name" | tr -d ' \n' | grep -q '"type":"Ready","status":"True"'; }
wait_until "default ServiceAccount" api /api/v1/namespaces/default/serviceaccounts/default
wait_until "node $name Ready" node_ready
ready=1
log "$name: node Ready in $((SECONDS - started)) s at https://$node_ip:6443 (dir $dir)"
echo "$dir/kubeconfig"

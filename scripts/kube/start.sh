#!/usr/bin/env bash
# Start one local Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager) from the
# binaries of scripts/kube/build.sh, listening on 127.0.0.1 only:
#
#   scripts/kube/start.sh NAME DIR      # prints DIR/kubeconfig (context NAME) on stdout when ready
#
# Everything of the cluster lives under DIR: pki/ (its own CA, serving cert, service-account key),
# tokens.csv, etcd/ (data), logs/, pids/, ports.env and the kubeconfigs. Several clusters can run
# at once, one per DIR: the ports are free ones picked now, unless KUBE_API_PORT, KUBE_ETCD_PORT or
# KUBE_ETCD_PEER_PORT say otherwise. Stop with scripts/kube/stop.sh DIR.
#
# - TLS: the kubeconfig carries the cluster's CA, so clients really verify the server.
# - Users: a token for "admin" (group system:masters) in the kubeconfig; the controller manager has
#   its own token as system:kube-controller-manager and runs each controller under its service
#   account (--use-service-account-credentials), as kubeadm clusters do. Authorization is RBAC.
# - Ready means /readyz answers ok and the controller manager has created the default
#   ServiceAccount, so namespaces, service accounts and their token secrets work from then on.
#   No kubelet or scheduler: pods stay Pending.
#
# Environment: KUBE_BIN (dir with the binaries; default: build.sh's cache), KUBE_START_TIMEOUT
# (seconds, default 90). Needs openssl, curl, python3 (to pick ports) and base64.
set -euo pipefail

here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
log() { printf 'kube start: %s\n' "$*" >&2; }
die() { printf 'kube start: ERROR: %s\n' "$*" >&2; exit 1; }

[[ $# -eq 2 ]] || die "usage: $0 NAME DIR"
name=$1
[[ $name =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || die "NAME must be letters, digits, '.', '_' or '-': $name"
mkdir -p "$2"
dir=$(readlink -f "$2")
timeout=${KUBE_START_TIMEOUT:-90}

for tool in openssl curl python3 base64; do
    command -v "$tool" >/dev/null || die "$tool is not on PATH; install it (it is in Debian) and run again"
done
bin=${KUBE_BIN:-$("$here/build.sh" --print-dir)}
for b in etcd kube-apiserver kube-controller-manager; do
    [[ -x $bin/$b ]] || die "no $bin/$b: run scripts/kube/build.sh first"
done

# shellcheck source=scripts/kube/daemons.sh
source "$here/daemons.sh"
for f in "$dir"/pids/*.pid; do
    [[ -f $f ]] || continue
    ! alive "$(<"$f")" || die "a cluster is already running in $dir; stop it with $here/stop.sh $dir"
done

rm -f "$dir"/pids/*.pid # of a cluster that is gone
mkdir -p "$dir"/{pki,etcd,logs,pids}
chmod 0700 "$dir/pki" "$dir/etcd"

# --- ports ----------------------------------------------------------------------------------------
# Bound together, so the kernel hands out distinct ones; released just before the daemons bind them.
read -r p1 p2 p3 < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(3)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))
for s in socks:
    s.close()')
api_port=${KUBE_API_PORT:-$p1}
etcd_port=${KUBE_ETCD_PORT:-$p2}
etcd_peer_port=${KUBE_ETCD_PEER_PORT:-$p3}
printf 'KUBE_API_PORT=%s\nKUBE_ETCD_PORT=%s\nKUBE_ETCD_PEER_PORT=%s\n' \
    "$api_port" "$etcd_port" "$etcd_peer_port" >"$dir/ports.env"

# --- credentials (made once per DIR, kept across restarts) ------------------------------------------
pki=$dir/pki
if [[ ! -f $pki/apiserver.crt ]]; then
    openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -days 3650 \
        -subj "/CN=promfleet-$name-ca" -keyout "$pki/ca.key" -out "$pki/ca.crt" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    # the names a client may use for the API server: here, and inside the cluster (service IP)
    cat >"$pki/apiserver.ext" <<'EOF'
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost,IP:10.96.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
authorityKeyIdentifier = keyid
EOF
    openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -subj /CN=kube-apiserver \
        -keyout "$pki/apiserver.key" -out "$pki/apiserver.csr" 2>/dev/null
    openssl x509 -req -in "$pki/apiserver.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
        -days 3650 -extfile "$pki/apiserver.ext" -out "$pki/apiserver.crt" 2>/dev/null
    openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
    openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
fi
if [[ ! -f $dir/tokens.csv ]]; then
    (
        umask 077
        printf '%s,admin,admin,system:masters\n%s,system:kube-controller-manager,kcm\n' \
            "$(openssl rand -hex 24)" "$(openssl rand -hex 24)" >"$dir/tokens.csv"
    )
fi
admin_token=$(sed -n 's/,admin,.*//p' "$dir/tokens.csv")
kcm_token=$(sed -n 's/,system:kube-controller-manager,.*//p' "$dir/tokens.csv")
server=https://127.0.0.1:$api_port

write_kubeconfig() { # file user token
    (
        umask 077
        cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: $name
  cluster:
    server: $server
    certificate-authority-data: $(base64 -w0 "$pki/ca.crt")
users:
- name: $2
  user:
    token: $3
contexts:
- name: $name
  context:
    cluster: $name
    user: $2
current-context: $name
EOF
    )
}
write_kubeconfig "$dir/kubeconfig" "$name-admin" "$admin_token"
write_kubeconfig "$dir/kube-controller-manager.kubeconfig" system:kube-controller-manager "$kcm_token"

# --- daemons --------------------------------------------------------------------------------------
started=$SECONDS
ready=
# a start that does not finish stops whatever it started
trap '[[ -n $ready ]] || "$here/stop.sh" "$dir" >/dev/null 2>&1 || true' EXIT

launch() { # name command...: detached from our stdin/stdout, so callers capturing them are not held
    local what=$1
    shift
    "$@" </dev/null >"$dir/logs/$what.log" 2>&1 &
    echo $! >"$dir/pids/$what.pid"
}
launch etcd "$bin/etcd" --name "$name" --data-dir "$dir/etcd" --logger zap \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" \
    --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
    --initial-cluster "$name=http://127.0.0.1:$etcd_peer_port"
# endpoint-reconciler none: the reconciler would publish 127.0.0.1 as the endpoint of the
# `kubernetes` Service, which Endpoints validation rejects (loopback), and log that forever
launch kube-apiserver "$bin/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$api_port" \
    --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --token-auth-file "$dir/tokens.csv" --authorization-mode RBAC \
    --service-cluster-ip-range 10.96.0.0/16 --endpoint-reconciler-type none \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --api-audiences https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    --profiling=false

# wait_for WHAT URL: until the API answers URL for the admin, while the daemons are alive
wait_for() {
    local what=$1 url=$2
    until curl -fsS --max-time 5 --cacert "$pki/ca.crt" -H "Authorization: Bearer $admin_token" \
        -o /dev/null "$url" 2>/dev/null; do
        daemons_alive "$what"
        if ((SECONDS - started >= timeout)); then
            tail -n 20 "$dir/logs/kube-apiserver.log" >&2
            die "no $what after $timeout s (logs: $dir/logs)"
        fi
        sleep 0.5
    done
}
wait_for /readyz "$server/readyz"
log "$name: API server ready after $((SECONDS - started)) s"

# --port 0: 1.20 still serves plain HTTP on 10252 by default, which a second cluster could not bind
launch kube-controller-manager "$bin/kube-controller-manager" \
    --kubeconfig "$dir/kube-controller-manager.kubeconfig" --use-service-account-credentials \
    --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
    --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" \
    --leader-elect=false --bind-address 127.0.0.1 --secure-port 0 --port 0 --profiling=false \
    --controllers '*,-service,-cloud-node-lifecycle' # both need a cloud provider; they only log errors
wait_for "default ServiceAccount" "$server/api/v1/namespaces/default/serviceaccounts/default"

ready=1
log "$name ready in $((SECONDS - started)) s at $server (dir $dir)"
echo "$dir/kubeconfig"

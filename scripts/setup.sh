#!/usr/bin/env bash
# Set up everything this repository needs, without Galaxy and without asking anything:
#   1. Debian packages: prometheus (with promtool), prometheus-node-exporter, prometheus-alertmanager
#      (with amtool), supervisor, systemd
#      (systemd-analyze), curl, git, rsync, slirp4netns (the AWX EE's network) and shellcheck (without it the shellcheck test of
#      ansible-test sanity is skipped); no service of theirs left running (node-exporter's on :9100,
#      alertmanager's on :9093)
#   2. .venv with the pinned Python dependencies of requirements.txt
#   3. the collections of collections/requirements.yml (kubernetes.core, community.crypto, awx.awx,
#      ansible.posix) in collections/ansible_collections,
#      taken from the `ansible` wheel on PyPI (scripts/install_collections.py)
#   4. collections/ansible_collections/promfleet/federation -> ../../.. (this checkout; committed,
#      an AWX project finds the collection through it: made again only when missing)
#   5. Prometheus 2.53 (trixie) and the newest 3.x (sid), node_exporter of bookworm and trixie, in a
#      cache outside the checkout (scripts/releases.py: resolved at every run, downloaded once per
#      Debian version)
#   6. the image of the test bed's hosts (tests/hosts): podman, runc and debootstrap from Debian, a
#      minimal bookworm that boots systemd, built once into ~/.cache/promfleet (scripts/testbed_image.sh)
#   7. the real Kubernetes nodes of tests/node: containerd, CNI plugins, iptables, conntrack from
#      Debian; the images the pods run, made from Debian packages (busybox-static, inotify-tools,
#      curl, sid's Prometheus 3) and cached (scripts/kube/images.sh); the Kubernetes binaries are
#      built by the first test run that needs them (scripts/kube/build.sh, about 11 minutes cold)
#   8. the AWX execution environment (execution-environment.yml) as an image, built offline with
#      ansible-builder and podman on a Debian base made with debootstrap, cached in ~/.cache/promfleet
#      (scripts/ee_image.sh); receptor 1.6.9 from Debian sid (scripts/receptor.py) and slirp4netns,
#      for the AWX job chain of tests/awx
# Idempotent and quick to re-run: each step is skipped when already done.
# Environment: PYTHON (base interpreter for the venv, default python3), ANSIBLE_COLLECTIONS_SOURCE
# (default ansible==12.3.0), SETUP_SKIP_APT=1 to leave the Debian packages alone.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
VENV=$ROOT/.venv
ANSIBLE_COLLECTIONS_SOURCE=${ANSIBLE_COLLECTIONS_SOURCE:-ansible==12.3.0}
APT_PACKAGES=(prometheus prometheus-node-exporter prometheus-alertmanager supervisor systemd curl git rsync shellcheck
              podman runc debootstrap containerd containernetworking-plugins iptables conntrack busybox-static
              inotify-tools gcc libc6-dev slirp4netns)
# a command each package must provide (or a file, given by its absolute path)
declare -A APT_COMMANDS=([prometheus]=promtool [prometheus-node-exporter]=prometheus-node-exporter
                         [prometheus-alertmanager]=amtool
                         [supervisor]=supervisord [systemd]=systemd-analyze
                         [curl]=curl [git]=git [rsync]=rsync [shellcheck]=shellcheck
                         [podman]=podman [runc]=runc [debootstrap]=debootstrap [containerd]=containerd
                         [containernetworking-plugins]=/usr/lib/cni/bridge [iptables]=iptables
                         [conntrack]=conntrack [busybox-static]=busybox [inotify-tools]=inotifywait
                         [gcc]=gcc [libc6-dev]=/usr/lib/x86_64-linux-gnu/crt1.o [slirp4netns]=slirp4netns)
# services of these packages that would listen next to the tests' instances: never left running
PACKAGE_SERVICES=(prometheus-node-exporter prometheus-alertmanager)
export DEBIAN_FRONTEND=noninteractive
export PIP_DISABLE_PIP_VERSION_CHECK=1
START=$SECONDS

log() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }

# Run a command quietly; show its output only when it fails.
quiet() {
    local out
    out=$(mktemp)
    if ! "$@" >"$out" 2>&1; then
        grep -v "is ignored: it is neither a file nor a directory" "$out" >&2 || true
        rm -f "$out"
        return 1
    fi
    rm -f "$out"
}

sha256() { sha256sum "$1" | cut -d' ' -f1; }

SUDO=()
if [[ $EUID -ne 0 ]] && command -v sudo >/dev/null; then
    SUDO=(sudo -n)
fi

# Stop (and on systemd disable) a package's own service: its postinst starts it where no
# policy-rc.d forbids it (prometheus-node-exporter's init script listens on *:9100).
stop_package_service() {
    local name=$1
    if [[ -d /run/systemd/system ]]; then
        if systemctl is-active --quiet "$name" || systemctl is-enabled --quiet "$name" 2>/dev/null; then
            log "stopping and disabling the package's service $name"
            quiet "${SUDO[@]}" systemctl disable --now "$name" || die "cannot stop the service $name"
        fi
    elif [[ -x /etc/init.d/$name ]] && "/etc/init.d/$name" status >/dev/null 2>&1; then
        log "stopping the package's service $name (/etc/init.d/$name)"
        quiet "${SUDO[@]}" "/etc/init.d/$name" stop || die "cannot stop the service $name"
    fi
}

# --- 1. Debian packages -------------------------------------------------------------------------
apt_missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    provides=${APT_COMMANDS[$pkg]}
    if [[ $status != "install ok installed" ]] || { [[ $provides == /* ]] && [[ ! -e $provides ]]; } ||
        { [[ $provides != /* ]] && ! command -v "$provides" >/dev/null; }; then
        apt_missing+=("$pkg")
    fi
done
if [[ ${#apt_missing[@]} -eq 0 ]]; then
    log "Debian packages present: ${APT_PACKAGES[*]}"
elif [[ ${SETUP_SKIP_APT:-0} == 1 ]]; then
    die "missing Debian packages (SETUP_SKIP_APT=1): ${apt_missing[*]}"
else
    if [[ $EUID -ne 0 && ${#SUDO[@]} -eq 0 ]]; then
        die "need root (or sudo) to install: ${apt_missing[*]}"
    fi
    # Never let a package's postinst start a service (supervisor would otherwise start supervisord).
    POLICY=/usr/sbin/policy-rc.d
    if [[ ! -e $POLICY ]]; then
        printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$POLICY" >/dev/null
        "${SUDO[@]}" chmod 755 "$POLICY"
        trap '"${SUDO[@]}" rm -f "$POLICY"' EXIT
    fi
    apt_install() {
        quiet "${SUDO[@]}" apt-get install -y --no-install-recommends -o Dpkg::Options::=--force-confold "${apt_missing[@]}"
    }
    need_update=0
    for pkg in "${apt_missing[@]}"; do
        candidate=$(apt-cache policy "$pkg" 2>/dev/null | awk '/Candidate:/ {print $2}')
        [[ -z $candidate || $candidate == "(none)" ]] && need_update=1
    done
    if [[ $need_update == 1 ]]; then
        log "apt-get update"
        quiet "${SUDO[@]}" apt-get update || die "apt-get update failed"
    fi
    log "apt-get install ${apt_missing[*]}"
    if ! apt_install; then
        # stale package lists (404 on the mirror): refresh once and retry
        log "apt-get install failed, retrying after apt-get update"
        quiet "${SUDO[@]}" apt-get update || die "apt-get update failed"
        apt_install || die "apt-get install ${apt_missing[*]} failed"
    fi
fi
for service in "${PACKAGE_SERVICES[@]}"; do
    stop_package_service "$service"
done

# --- 2. virtualenv with the pinned Python dependencies ------------------------------------------
if [[ -x $VENV/bin/python ]] && ! "$VENV/bin/python" -c 'import sys; assert sys.version_info[:2] >= (3, 11)' 2>/dev/null; then
    log "removing the broken or too old virtualenv $VENV"
    rm -rf "$VENV"
fi
if [[ ! -x $VENV/bin/python ]]; then
    # the base interpreter must not be the venv's own (the Makefile puts .venv/bin first on PATH)
    BASE_PATH=$(printf '%s' "$PATH" | tr ':' '\n' | { grep -vxF "$VENV/bin" || true; } | paste -sd: -)
    BASE_PYTHON=$(PATH=$BASE_PATH command -v "${PYTHON:-python3}") || die "no ${PYTHON:-python3} on PATH"
    "$BASE_PYTHON" -c 'import sys; assert sys.version_info[:2] >= (3, 11), sys.version' \
        || die "$BASE_PYTHON is older than Python 3.11 (ansible-core 2.19 needs 3.11+); set PYTHON"
    log "creating $VENV with $("$BASE_PYTHON" --version 2>&1)"
    rm -rf "$VENV"
    "$BASE_PYTHON" -m venv "$VENV"
fi
REQ_STAMP=$VENV/.requirements.sha256
req_hash=$(sha256 requirements.txt)
if [[ ! -f $REQ_STAMP || $(cat "$REQ_STAMP") != "$req_hash" ]]; then
    log "pip install -r requirements.txt (into .venv)"
    rm -f "$REQ_STAMP"
    quiet "$VENV/bin/python" -m pip install --quiet -r requirements.txt || die "pip install -r requirements.txt failed"
    printf '%s\n' "$req_hash" >"$REQ_STAMP"
else
    log "Python requirements up to date (.venv)"
fi
export PATH=$VENV/bin:$PATH

# --- 3. collections, without Galaxy -------------------------------------------------------------
"$VENV/bin/python" scripts/install_collections.py --source "$ANSIBLE_COLLECTIONS_SOURCE" \
    --requirements collections/requirements.yml --dest collections/ansible_collections --cache .cache/collections

# --- 4. this checkout as promfleet.federation ----------------------------------------------------
LINK=collections/ansible_collections/promfleet/federation
if [[ $(readlink "$LINK" 2>/dev/null) != "../../.." ]]; then
    mkdir -p "$(dirname "$LINK")"
    if [[ -e $LINK && ! -L $LINK ]]; then
        die "$LINK exists and is not a symlink; remove it"
    fi
    ln -sfn ../../.. "$LINK"
    log "linked $LINK -> ../../.."
fi
[[ -f $LINK/galaxy.yml ]] || die "$LINK does not resolve to this checkout"

# --- 5. Prometheus 2.53 (trixie) and 3.x (sid), node_exporter (bookworm, trixie) in a cache -------------
python3 scripts/releases.py fetch

# --- 6. the test bed's host image (a cached tarball; built once, about 80 s) ----------------------
if [[ $EUID -eq 0 ]]; then
    bash scripts/testbed_image.sh >/dev/null
else
    log "not root: the test bed image (tests/hosts) is left unbuilt"
fi

# --- 7. the images of the real Kubernetes nodes (tests/node): cached, built once (about 20 s) -------
if [[ $EUID -eq 0 ]]; then
    bash scripts/kube/images.sh >/dev/null
else
    log "not root: the images of the Kubernetes nodes (tests/node) are left unbuilt"
fi

# --- 8. the AWX execution environment (cached; built when its inputs change) ----------------------
if [[ $EUID -eq 0 ]]; then
    ANSIBLE_COLLECTIONS_SOURCE=$ANSIBLE_COLLECTIONS_SOURCE bash scripts/ee_image.sh >/dev/null
else
    log "not root: the execution environment image (execution-environment.yml) is left unbuilt"
fi
python3 scripts/receptor.py >/dev/null

# --- versions -----------------------------------------------------------------------------------
log "ansible-core $("$VENV/bin/python" -c 'from ansible.release import __version__; print(__version__)')"
log "prometheus $(prometheus --version 2>&1 | awk 'NR==1 {print $3}')"
log "promtool $(promtool --version 2>&1 | awk 'NR==1 {print $3}')"
log "node_exporter $(prometheus-node-exporter --version 2>&1 | awk 'NR==1 {print $3}')"
log "amtool $(amtool --version 2>&1 | awk 'NR==1 {print $3}')"
log "supervisord $(supervisord --version 2>&1)"
log "done in $((SECONDS - START)) s"

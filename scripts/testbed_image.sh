#!/usr/bin/env bash
# Build the image of the test bed's hosts (tests/support/testbed.py): a fresh minimal Debian
# bookworm install that boots systemd as PID 1 and takes SSH logins, made with debootstrap from the
# Debian archive this machine already uses. No registry is involved.
#
#   scripts/testbed_image.sh               # build unless cached; prints the image name last on stdout
#   scripts/testbed_image.sh --print-name  # only print the image name
#
# What a host has: debootstrap's minbase plus systemd (and systemd-sysv, dbus) to boot, openssh-server
# to be reached, python3 for Ansible, iproute2. Nothing of this project: no prometheus, no curl. The
# package lists are as debootstrap leaves them (none), like a machine just installed. SSH host keys
# are made at first boot (a drop-in runs `ssh-keygen -A`), /etc/machine-id is empty (systemd makes
# one per container).
#
# The image is `localhost/promfleet-testbed:<key>`, the key a hash of this file and scripts/images.sh. Podman's storage
# keeps it; a tarball in $PROMFLEET_CACHE (default ~/.cache/promfleet) keeps it across a fresh
# storage (`podman load`, a second or two). Change anything here and the next run builds anew.
#
# Needs root, debootstrap and podman (scripts/setup.sh installs them). Podman runs with the
# containers.conf of this VM (runc, explicit ulimits: the VM lacks CAP_SYS_RESOURCE), written to
# the cache dir and used through CONTAINERS_CONF.
set -euo pipefail

RELEASE=bookworm
PACKAGES=systemd,systemd-sysv,dbus,openssh-server,python3,iproute2

self=$(readlink -f "${BASH_SOURCE[0]}")
# shellcheck source=scripts/images.sh
source "$(dirname "$self")/images.sh"
cache_root=${PROMFLEET_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/promfleet}
key=$(cat "$self" "$(dirname "$self")/images.sh" | sha256sum | cut -c1-12)
image=localhost/promfleet-testbed:$key
tarball=$cache_root/testbed-image-$key.tar

log() { printf 'testbed image: %s\n' "$*" >&2; }
die() { printf 'testbed image: ERROR: %s\n' "$*" >&2; exit 1; }

case ${1:-} in
    --print-name) echo "$image"; exit 0 ;;
    '') ;;
    *) die "usage: $0 [--print-name]" ;;
esac

# The containers.conf podman needs on this VM.
use_containers_conf "$cache_root/testbed-containers.conf"

command -v podman >/dev/null || die "podman is not on PATH (scripts/setup.sh installs it)"

if podman image exists "$image"; then
    log "present: $image"
    echo "$image"
    exit 0
fi
if [[ -s $tarball ]]; then
    log "loading $tarball"
    podman load --quiet --input "$tarball" >/dev/null
    podman image exists "$image" || die "$tarball did not hold $image"
    echo "$image"
    exit 0
fi

mirror=${PROMFLEET_DEBIAN_MIRROR:-$(system_debian_mirror)}
[[ -n $mirror ]] || die "no Debian mirror in the apt sources; set PROMFLEET_DEBIAN_MIRROR"
[[ $EUID -eq 0 ]] || die "debootstrap needs root"
command -v debootstrap >/dev/null || die "debootstrap is not on PATH (scripts/setup.sh installs it)"

exec 9>"$cache_root/testbed-image-$key.lock"
flock 9
if podman image exists "$image"; then
    echo "$image"
    exit 0
fi

start=$SECONDS
scratch=$(mktemp -d "$cache_root/testbed-build.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
rootfs=$scratch/rootfs
log "debootstrap $RELEASE ($PACKAGES) from $mirror"
if ! debootstrap --variant=minbase --include="$PACKAGES" "$RELEASE" "$rootfs" "$mirror" >"$scratch/debootstrap.log" 2>&1; then
    tail -n 30 "$scratch/debootstrap.log" >&2
    die "debootstrap failed (log above)"
fi

# sshd: enabled, host keys made at boot (none baked into the image) before ssh.service's own
# `sshd -t` check; root logs in with a key only (Debian's default).
chroot "$rootfs" systemctl enable ssh.service >/dev/null 2>&1
rm -f "$rootfs"/etc/ssh/ssh_host_*
mkdir -p "$rootfs/etc/systemd/system/ssh.service.d"
cat >"$rootfs/etc/systemd/system/ssh.service.d/host-keys.conf" <<'EOF'
[Service]
ExecStartPre=
ExecStartPre=/usr/bin/ssh-keygen -A
ExecStartPre=/usr/sbin/sshd -t
EOF
# One machine-id per container, made by systemd at boot.
: >"$rootfs/etc/machine-id"
rm -f "$rootfs/var/lib/dbus/machine-id"
# What the installer leaves out of a container: nothing of the hardware to wait for.
ln -sf /dev/null "$rootfs/etc/systemd/system/systemd-networkd-wait-online.service"
# As debootstrap leaves them: no package lists, no downloaded .debs.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb
mkdir -p "$rootfs/var/lib/apt/lists/partial"

log "podman import as $image"
tar -C "$rootfs" -c . | podman import --quiet \
    --change 'CMD ["/sbin/init"]' --change 'STOPSIGNAL SIGRTMIN+3' --change 'ENV container=podman' \
    - "$image" >/dev/null
podman save --quiet --output "$tarball.new" "$image"
mv "$tarball.new" "$tarball"
# Older keys of this image: of no use once this file changed.
find "$cache_root" -maxdepth 1 -name 'testbed-image-*' ! -name "testbed-image-$key.*" -delete
podman images --format '{{.Repository}}:{{.Tag}}' "${image%:*}" | { grep -vxF "$image" || true; } \
    | xargs -r podman rmi --force >/dev/null 2>&1 || true
log "built $image in $((SECONDS - start)) s ($(du -m "$tarball" | cut -f1) MB in $tarball)"
echo "$image"

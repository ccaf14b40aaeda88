#!/usr/bin/env bash
# Make the images the pods of tests/node run, from Debian packages, without a registry or an image
# builder: each is a directory turned into a one-layer docker archive (mkimage.py) that the node's
# containerd imports.
#
#   scripts/kube/images.sh               # build unless cached; the image dir is the last line on stdout
#   scripts/kube/images.sh --print-dir   # only print the image dir
#
# The images (references are in DIR/images.env):
#   pause        the pod sandbox: pause.c, compiled static with Debian's gcc
#   prometheus   sid's Prometheus 3 and promtool (scripts/releases.py; bookworm's 2.42 has no Kubernetes
#                service discovery), busybox-static's applets (sh, kill, sha256sum for the collection's
#                exec reload and mount check), runs as nobody (65534) from /prometheus
#   busybox      busybox-static alone: the collection's sidecar reloader
#   inotify      inotify-tools and curl from Debian with their libraries: the seed's reloader sidecar
#
# The dir is $PROMFLEET_CACHE/kube-images-<key> (PROMFLEET_CACHE defaults to ~/.cache/promfleet); the
# key hashes this script, mkimage.py, pause.c, the Debian versions of the packages copied and the
# Prometheus binary, so a package upgrade makes a new set. It is filled in a scratch dir and renamed
# into place in one step. Needs root (the files keep their owners), gcc, ldd and python3.
set -euo pipefail

here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
repo=$(dirname "$(dirname "$here")")
log() { printf 'kube images: %s\n' "$*" >&2; }
die() { printf 'kube images: ERROR: %s\n' "$*" >&2; exit 1; }

PACKAGES=(busybox-static inotify-tools libinotifytools0 curl libc6 gcc)
releases=${PROMFLEET_RELEASES:-$(python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import releases
print(releases.cache_dir())' "$repo/scripts")}
prometheus_bin_dir() {
    python3 - "$releases/index.json" <<'PY'
import json, sys
index = json.load(open(sys.argv[1]))["prometheus"]
three = sorted((v for v in index if v.startswith("3.")), key=lambda v: [int(p) for p in v.split(".")])
print(index[three[-1]]["version"], index[three[-1]]["bin_dir"])
PY
}
[[ -f $releases/index.json ]] || die "no $releases/index.json: run python3 scripts/releases.py fetch first"
read -r prom_version prom_bin < <(prometheus_bin_dir) || die "no Prometheus 3 in $releases/index.json"

key=$( {
    cat "$here/images.sh" "$here/mkimage.py" "$here/pause.c"
    dpkg-query -W -f='${Package} ${Version}\n' "${PACKAGES[@]}"
    sha256sum "$prom_bin/prometheus" "$prom_bin/promtool" | cut -d' ' -f1
} | sha256sum | cut -c1-12)
cache_root=${PROMFLEET_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/promfleet}
dest=$cache_root/kube-images-$key

case ${1:-} in
    --print-dir) echo "$dest"; exit 0 ;;
    '') ;;
    *) die "usage: $0 [--print-dir]" ;;
esac
if [[ -f $dest/images.env ]]; then
    log "cached in $dest"
    echo "$dest"
    exit 0
fi
[[ $EUID -eq 0 ]] || die "run as root: the image files keep their owners (nobody owns /prometheus)"
for tool in gcc ldd python3 busybox inotifywait curl; do
    command -v "$tool" >/dev/null || die "$tool is not on PATH; run scripts/setup.sh (it installs it from Debian)"
done

mkdir -p "$cache_root"
scratch=$(mktemp -d "$cache_root/kube-images-$key.build.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
started=$SECONDS

# copy BINARY ROOTFS [NAME]: the binary into ROOTFS/bin, and every library it loads at its own path
copy() {
    local binary=$1 rootfs=$2 lib
    install -D -m 0755 "$binary" "$rootfs/bin/${3:-$(basename "$binary")}"
    while read -r lib; do
        install -D -m 0755 "$(readlink -f "$lib")" "$rootfs$lib"
    done < <(ldd "$binary" 2>/dev/null | grep -oE '/[^ ]+' || true)
}
# rootfs DIR: the common skeleton, busybox's applets, users root and nobody
rootfs() {
    local dir=$1 applet
    mkdir -p "$dir"/{bin,etc,tmp}
    chmod 1777 "$dir/tmp"
    install -m 0755 "$(command -v busybox)" "$dir/bin/busybox"
    for applet in $(busybox --list); do
        [[ -e $dir/bin/$applet ]] || ln -s busybox "$dir/bin/$applet"
    done
    printf 'root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$dir/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/etc/group"
    echo 'hosts: files dns' >"$dir/etc/nsswitch.conf"
}
image() { # dir reference file mkimage-options...
    local dir=$1 reference=$2 file=$3
    shift 3
    python3 "$here/mkimage.py" "$dir" "$reference" "$scratch/out/$file" "$@"
    printf '%s\n' "$reference" >>"$scratch/out/images.list"
}
mkdir "$scratch/out"

mkdir -p "$scratch/pause"
gcc -O2 -static -o "$scratch/pause/pause" "$here/pause.c"
image "$scratch/pause" localhost/promfleet/pause:1 pause.tar --entrypoint '["/pause"]'

rootfs "$scratch/prometheus"
copy "$prom_bin/prometheus" "$scratch/prometheus"
copy "$prom_bin/promtool" "$scratch/prometheus"
mkdir -p "$scratch/prometheus/etc/prometheus" "$scratch/prometheus/prometheus"
printf 'scrape_configs: []\n' >"$scratch/prometheus/etc/prometheus/prometheus.yml"
chown 65534:65534 "$scratch/prometheus/prometheus"
image "$scratch/prometheus" "localhost/promfleet/prometheus:$prom_version" prometheus.tar \
    --entrypoint '["/bin/prometheus"]' --user 65534 --workdir /prometheus \
    --cmd '["--config.file=/etc/prometheus/prometheus.yml","--storage.tsdb.path=/prometheus"]'

busybox_version=$(dpkg-query -W -f='${Version}' busybox-static)
busybox_version=${busybox_version#*:}  # no epoch
busybox_version=${busybox_version%%-*} # no Debian revision
rootfs "$scratch/busybox"
image "$scratch/busybox" "localhost/promfleet/busybox:$busybox_version" busybox.tar --entrypoint '["/bin/sh"]'

rootfs "$scratch/inotify"
copy "$(command -v inotifywait)" "$scratch/inotify"
copy "$(command -v curl)" "$scratch/inotify"
image "$scratch/inotify" localhost/promfleet/inotify-curl:1 inotify.tar --entrypoint '["/bin/sh"]'

{
    echo "PAUSE_IMAGE=localhost/promfleet/pause:1"
    echo "PROMETHEUS_IMAGE=localhost/promfleet/prometheus:$prom_version"
    echo "BUSYBOX_IMAGE=localhost/promfleet/busybox:$busybox_version"
    echo "INOTIFY_IMAGE=localhost/promfleet/inotify-curl:1"
} >"$scratch/out/images.env"
mv -T "$scratch/out" "$dest"
log "made $(wc -l <"$dest/images.list") images in $((SECONDS - started)) s: $dest"
echo "$dest"

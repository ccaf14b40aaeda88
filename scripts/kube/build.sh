#!/usr/bin/env bash
# Build a real Kubernetes 1.20.2 (kube-apiserver, kube-controller-manager, kube-scheduler, kubelet
# and kube-proxy) from Debian bookworm's `kubernetes` source package, with Debian's Go 1.19, and take
# etcd 3.4 from Debian's etcd-server. No registry ships these binaries; Debian's source package is
# the upstream tree with vendor/, so the build reads nothing but the Debian archive. The API server
# alone serves tests/kube (scripts/kube/start.sh); the whole node runs pods (scripts/kube/node.sh).
#
#   scripts/kube/build.sh               # build unless cached; the bin dir is the last line on stdout
#   scripts/kube/build.sh --print-dir   # only print the bin dir (e.g. as a CI cache path)
#
# The bin dir is $PROMFLEET_CACHE/kube-<key> (PROMFLEET_CACHE defaults to ~/.cache/promfleet). The
# key is the upstream version plus a hash of this file, which pins every Debian version it uses:
# change a pin (or anything else here) and the next run builds a fresh cache.
#
# Cold build: about 11 minutes on 2 cores (1.4 GB of memory at the peak), 3 GB of scratch space,
# 400 MB kept. The work happens in
# a scratch dir next to the cache, which is removed on any exit; the finished bin dir is renamed
# into place in one step, so a cache dir that exists is complete. A lock serializes builds of
# the same key (parallel CI jobs sharing one cache).
#
# Needs apt-get, dpkg, make, patch, tar and rsync (the Kubernetes makefiles copy with it). Run as
# root or not; nothing is installed on the system.
set -euo pipefail

KUBE_UPSTREAM=1.20.2
KUBE_SRC_VERSION=1.20.5+really1.20.2-1.1+deb12u1 # source package `kubernetes`
GO_VERSION=1.19.8-2                               # golang-1.19-go, golang-1.19-src
ETCD_VERSION=3.4.23-4+b4                          # etcd-server
REFLECT2_VERSION=1.0.2-2                          # golang-github-modern-go-reflect2-dev

# The Debian archive this machine already uses (its apt sources), unless PROMFLEET_DEBIAN_MIRROR says.
system_debian_mirror() {
    local file
    for file in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -r $file ]] || continue
        awk '$1 == "URIs:" { for (i = 2; i <= NF; i++) print $i }
             $1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/) { print $i; break } }' "$file"
    done | { grep -E '/debian/?$' || true; } | head -n1 | sed 's:/*$::'
}
DEBIAN_MIRROR=${PROMFLEET_DEBIAN_MIRROR:-$(system_debian_mirror)}

self=$(readlink -f "${BASH_SOURCE[0]}")
cache_root=${PROMFLEET_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/promfleet}
key=$KUBE_UPSTREAM-$(sha256sum "$self" | cut -c1-12)
dest=$cache_root/kube-$key
binaries=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy etcd)

log() { printf 'kube build: %s\n' "$*" >&2; }
die() { printf 'kube build: ERROR: %s\n' "$*" >&2; exit 1; }

is_built() {
    local bin
    for bin in "${binaries[@]}"; do [[ -x $dest/$bin ]] || return 1; done
}

case ${1:-} in
    --print-dir) echo "$dest"; exit 0 ;;
    '') ;;
    *) die "usage: $0 [--print-dir]" ;;
esac

if is_built; then
    log "cached in $dest"
    echo "$dest"
    exit 0
fi

for tool in apt-get dpkg make patch tar rsync flock sha256sum; do
    command -v "$tool" >/dev/null || die "$tool is not on PATH; install it (it is in Debian) and run again"
done

mkdir -p "$cache_root"
exec 9>"$cache_root/kube-$key.lock"
if ! flock -n 9; then
    log "another build of kube-$key is running; waiting for it"
    flock 9
fi
if is_built; then # the other build finished it
    log "cached in $dest"
    echo "$dest"
    exit 0
fi
# scratch dirs of this key left by a killed build (SIGKILL skips the trap); we hold the lock
rm -rf "$cache_root/kube-$key.build."*

scratch=$(mktemp -d "$cache_root/kube-$key.build.XXXXXX")
build_log=$cache_root/kube-$key.log
trap 'rm -rf "$scratch"' EXIT
trap 'log "failed at line $LINENO: $BASH_COMMAND"' ERR
trap 'exit 130' INT
trap 'exit 143' TERM
: >"$build_log"
started=$SECONDS

# --- Debian packages, through a private apt configuration -----------------------------------------
# Own source list, lists and caches: of the system's apt state only the mirror is read, nothing changed.
[[ -n $DEBIAN_MIRROR ]] || die "no Debian archive in /etc/apt/sources*; set PROMFLEET_DEBIAN_MIRROR to one"
apt_dir=$scratch/apt
mkdir -p "$apt_dir"/{sources.d,lists/partial,cache/archives/partial}
: >"$apt_dir/sources.list"
cat >"$apt_dir/sources.d/bookworm.sources" <<EOF
Types: deb deb-src
URIs: $DEBIAN_MIRROR
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
apt_opts=(
    -q -o Dir::Etc::SourceList="$apt_dir/sources.list" -o Dir::Etc::SourceParts="$apt_dir/sources.d"
    -o Dir::State::Lists="$apt_dir/lists" -o Dir::Cache="$apt_dir/cache" -o Acquire::Languages=none
)
# as root, apt would download as user _apt, who may not write into this dir
[[ $EUID -ne 0 ]] || apt_opts+=(-o APT::Sandbox::User=root)

log "fetching Debian packages (kubernetes $KUBE_SRC_VERSION, golang-1.19 $GO_VERSION, etcd $ETCD_VERSION)"
{
    apt-get "${apt_opts[@]}" update
    mkdir -p "$scratch/src" "$scratch/debs"
    (cd "$scratch/src" && apt-get "${apt_opts[@]}" source --download-only "kubernetes=$KUBE_SRC_VERSION")
    (cd "$scratch/debs" && apt-get "${apt_opts[@]}" download "golang-1.19-go=$GO_VERSION" \
        "golang-1.19-src=$GO_VERSION" "etcd-server=$ETCD_VERSION" \
        "golang-github-modern-go-reflect2-dev=$REFLECT2_VERSION")
} >>"$build_log" 2>&1 || {
    tail -n 15 "$build_log" >&2
    die "apt failed (log: $build_log); a pinned version may have left the archive: update the pins at the top of $self"
}

# --- source tree: upstream tarball + Debian's patches + one fix of ours -------------------------
log "unpacking"
mkdir -p "$scratch/root"
for deb in "$scratch"/debs/*.deb; do dpkg -x "$deb" "$scratch/root"; done
tree=$scratch/src/kubernetes-$KUBE_UPSTREAM
{
    tar -xzf "$scratch/src/kubernetes_${KUBE_SRC_VERSION%-*}.orig.tar.gz" -C "$scratch/src"
    tar -xJf "$scratch/src/kubernetes_$KUBE_SRC_VERSION.debian.tar.xz" -C "$tree"
    while read -r p; do
        [[ -z $p || $p == \#* ]] || patch -d "$tree" -p1 --forward <"$tree/debian/patches/$p"
    done <"$tree/debian/patches/series"
} >>"$build_log" 2>&1 || die "unpacking or patching failed (log: $build_log)"
# The vendored modern-go/reflect2 1.0.1 crashes at run time with Go >= 1.18 (unsafe map iteration,
# modern-go/reflect2#24); Debian's 1.0.2 is API-compatible. vendor/ has no go.mod per package.
reflect2=$tree/vendor/github.com/modern-go/reflect2
rm -rf "$reflect2"
cp -r "$scratch/root/usr/share/gocode/src/github.com/modern-go/reflect2" "$reflect2"
rm -f "$reflect2/go.mod" "$reflect2/go.sum"

# --- compile -------------------------------------------------------------------------------------
go_bin=$scratch/root/usr/lib/go-1.19/bin
[[ -x $go_bin/go ]] || die "no go binary in the golang-1.19-go package at $go_bin"
log "compiling ${binaries[*]:0:5} (about 11 min on 2 cores; log: $build_log)"
env -u GOROOT -u GOBIN -u GOOS -u GOARCH -u KUBE_BUILD_PLATFORMS \
    PATH="$go_bin:$PATH" HOME="$scratch/home" GOPATH="$scratch/gopath" GOCACHE="$scratch/gocache" \
    CGO_ENABLED=0 GOFLAGS=-mod=vendor GOPROXY=off GOTOOLCHAIN=local \
    make -C "$tree" WHAT="cmd/kube-apiserver cmd/kube-controller-manager cmd/kube-scheduler cmd/kubelet cmd/kube-proxy" >>"$build_log" 2>&1 || {
    tail -n 25 "$build_log" >&2
    die "make failed (log: $build_log)"
}

# --- install: fill a complete bin dir, then rename it into place ------------------------------------
out=$tree/_output/local/bin/linux/$("$go_bin/go" env GOARCH)
mkdir "$scratch/bin"
for bin in "${binaries[@]:0:5}"; do cp "$out/$bin" "$scratch/bin/"; done
cp "$scratch/root/usr/bin/etcd" "$scratch/bin/"
{
    echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) by $self"
    echo "kubernetes source $KUBE_SRC_VERSION, golang-1.19 $GO_VERSION, etcd-server $ETCD_VERSION," \
        "reflect2 $REFLECT2_VERSION"
    "$scratch/bin/kube-apiserver" --version
    "$scratch/bin/etcd" --version
} >"$scratch/bin/VERSIONS"
mv -T "$scratch/bin" "$dest"
rm -f "$build_log"
log "built in $((SECONDS - started)) s: $dest"
echo "$dest"

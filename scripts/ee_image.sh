#!/usr/bin/env bash
# Build the AWX execution environment (EE) of this collection, execution-environment.yml, with
# ansible-builder and podman, offline: no registry, no Galaxy, and nothing fetched by the build.
#
#   scripts/ee_image.sh               # build unless cached; prints the image name last on stdout
#   scripts/ee_image.sh --print-name  # only print the image name
#   scripts/ee_image.sh --base        # only the base image (also tagged
#                                     # localhost/promfleet-ee-base:bookworm, the name
#                                     # execution-environment.yml gives); prints its name
#
# The base: debootstrap's minbase of Debian bookworm from the archive this machine uses, plus
# python3 and python3-venv (the EE's Python is a virtualenv, /opt/ee: Debian's system Python
# refuses ensurepip), openssh-client (ssh, ssh-agent, ssh-add: AWX's machine credentials go
# through ssh-agent), sshpass (password credentials), ca-certificates and openssl. No git, no
# rsync: no playbook of this project needs them on the controller. The image is
# `localhost/promfleet-ee-base:<key>`, the key a hash of that list and of build_base below.
#
# The EE: `localhost/promfleet-ee:<key>`, the key a hash of everything it is built from: this
# file and scripts/images.sh, execution-environment.yml, requirements.txt (the pins), the `ansible` wheel the
# collections come from, ansible-builder's version and the base's key. promfleet.federation itself
# is not in the image (a job finds it in its project, through the committed link
# collections/ansible_collections/promfleet/federation), so a changed role needs no new image.
#
# Offline specifics, which execution-environment.yml cannot hold without breaking the build for
# its users: the script builds a copy of it in a scratch folder of the cache, with only the
# sources changed:
#   - the base image: the keyed name above;
#   - the collections: tarballs made on the host (taken out of the `ansible` wheel from PyPI by
#     scripts/install_collections.py), installed with `ansible-galaxy collection install --offline`;
#   - the Python packages: wheels downloaded on the host (`pip download`, constrained by
#     requirements.txt) into the build context; pip in the build reads a pip.conf with
#     `no-index` and `find-links` (pip inside the build may not verify TLS here), removed again
#     at the end of the final stage. The build runs with `--network=none` and `--squash` (the wheels
#     leave no layer behind).
#
# Podman's storage keeps the images; tarballs in $PROMFLEET_CACHE (default ~/.cache/promfleet),
# ee-image-<key>.tar and ee-base-<key>.tar, keep them across a fresh storage (`podman load`).
# Needs root (debootstrap), podman and the .venv of scripts/setup.sh (ansible-builder, ansible-core).
# Podman runs with the containers.conf of this VM (runc, explicit ulimits), like
# scripts/testbed_image.sh. Timings go to stderr.
set -euo pipefail

RELEASE=bookworm
BASE_PACKAGES=python3,python3-venv,openssh-client,sshpass,ca-certificates,openssl

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
# shellcheck source=scripts/images.sh
source scripts/images.sh
VENV=$ROOT/.venv
ANSIBLE_COLLECTIONS_SOURCE=${ANSIBLE_COLLECTIONS_SOURCE:-ansible==12.3.0}
cache_root=${PROMFLEET_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/promfleet}
export PIP_DISABLE_PIP_VERSION_CHECK=1

log() { printf 'ee image: %s\n' "$*" >&2; }
die() { printf 'ee image: ERROR: %s\n' "$*" >&2; exit 1; }

mode=build
case ${1:-} in
    --print-name) mode=print ;;
    --base) mode=base ;;
    '') ;;
    *) die "usage: $0 [--print-name | --base]" ;;
esac

# The base's root file system, made in $1 (an empty path). Its text is part of the base's key.
build_base() {
    local rootfs=$1 mirror=$2
    debootstrap --variant=minbase --include="$BASE_PACKAGES" "$RELEASE" "$rootfs" "$mirror"
    # as a container image leaves them: no package lists, no downloaded .debs, no machine-id
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb
    mkdir -p "$rootfs/var/lib/apt/lists/partial"
    : >"$rootfs/etc/machine-id"
}

base_key=$({ echo "$RELEASE $BASE_PACKAGES"; declare -f build_base; } | sha256sum | cut -c1-12)
base_image=localhost/promfleet-ee-base:$base_key
base_alias=localhost/promfleet-ee-base:$RELEASE
base_tarball=$cache_root/ee-base-$base_key.tar

[[ -x $VENV/bin/ansible-builder ]] || die "no $VENV/bin/ansible-builder: run scripts/setup.sh (make setup) first"
mkdir -p "$cache_root"
scratch=$(mktemp -d "$cache_root/ee-build.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# The definition, read once: prints what the shell needs (python-specs, collections-yml, copy).
ee_definition() {
    "$VENV/bin/python" - "$@" <<'EOF'
import sys
from pathlib import Path

import yaml

action, definition = sys.argv[1], Path(sys.argv[2])
ee = yaml.safe_load(definition.read_text(encoding="utf-8"))
deps = ee["dependencies"]
galaxy = deps["galaxy"]["collections"]

if action == "python-specs":
    # every requirement pip installs in the build, besides the collections' own (introspected)
    specs = list(deps.get("python") or [])
    specs += [deps[k]["package_pip"] for k in ("ansible_core", "ansible_runner")]
    specs.append(ee["options"]["container_init"]["package_pip"])
    specs += ["bindep", "pyyaml", "packaging"]  # ansible-builder's builder stage
    print("\n".join(specs))
elif action == "exclude-system":
    print("\n".join(deps.get("exclude", {}).get("system") or []))
elif action == "collections-yml":
    # the collections taken from the `ansible` wheel: those given by name
    wanted = [{"name": c["name"], "version": c.get("version", "*")} for c in galaxy]
    print(yaml.safe_dump({"collections": wanted}, sort_keys=False), end="")
elif action == "copy":
    base_image, tarballs_dir, wheels_dir, out = sys.argv[3:7]
    tarballs = {p.name: p for p in Path(tarballs_dir).glob("*.tar.gz")}
    ee["images"]["base_image"]["name"] = base_image
    offline = []
    for entry in galaxy:
        prefix = entry["name"].replace(".", "-") + "-"
        artifact = next(name for name in tarballs if name.startswith(prefix))
        offline.append({"name": f"/build/offline-collections/{artifact}", "type": "file"})
    deps["galaxy"]["collections"] = offline
    for kind in ("python", "system"):
        if isinstance(deps.get(kind), str):
            deps[kind] = str((definition.parent / deps[kind]).resolve())
    ee["additional_build_files"] = [
        {"src": tarballs_dir, "dest": "offline-collections"},
        {"src": wheels_dir, "dest": "offline-wheels"},
    ]
    venv = Path(deps["python_interpreter"]["python_path"]).parent.parent
    steps = ee.setdefault("additional_build_steps", {})
    steps["prepend_base"] = list(steps.get("prepend_base") or []) + [
        "COPY _build/offline-wheels/ /output/offline-wheels/",
        f"RUN printf '[global]\\nno-index = true\\nfind-links = /output/offline-wheels\\n' >{venv}/pip.conf",
    ]
    steps["append_final"] = list(steps.get("append_final") or []) + [f"RUN rm -f {venv}/pip.conf"]
    ee.setdefault("build_arg_defaults", {})["ANSIBLE_GALAXY_CLI_COLLECTION_OPTS"] = "--offline"
    Path(out).write_text("# generated by scripts/ee_image.sh from execution-environment.yml\n"
                         + yaml.safe_dump(ee, sort_keys=False), encoding="utf-8")
else:
    raise SystemExit(f"unknown action {action}")
EOF
}

# --- the key: everything the image is made of ---------------------------------------------------
builder_version=$("$VENV/bin/ansible-builder" --version)
key=$({
    sha256sum scripts/ee_image.sh scripts/images.sh execution-environment.yml requirements.txt
    echo "$ANSIBLE_COLLECTIONS_SOURCE ansible-builder $builder_version base $base_key"
} | sha256sum | cut -c1-12)
image=localhost/promfleet-ee:$key
tarball=$cache_root/ee-image-$key.tar

if [[ $mode == print ]]; then
    echo "$image"
    exit 0
fi

# The containers.conf podman needs on this VM.
use_containers_conf "$cache_root/ee-containers.conf"
command -v podman >/dev/null || die "podman is not on PATH (scripts/setup.sh installs it)"

# Present in podman's storage, or loaded from its tarball: 0; else 1.
from_cache() {
    local name=$1 file=$2 start=$SECONDS
    if podman image exists "$name"; then
        log "present: $name"
        return 0
    fi
    if [[ -s $file ]]; then
        podman load --quiet --input "$file" >/dev/null
        podman image exists "$name" || die "$file did not hold $name"
        log "loaded $name from $file in $((SECONDS - start)) s"
        return 0
    fi
    return 1
}

# Save an image to its tarball; drop the older keys' tarballs and tags.
keep_only() {
    local name=$1 file=$2 prefix=$3 start=$SECONDS
    podman save --quiet --output "$file.new" "$name"
    mv "$file.new" "$file"
    log "saved $name in $((SECONDS - start)) s ($(du -m "$file" | cut -f1) MB in $file)"
    find "$cache_root" -maxdepth 1 -name "$prefix-*" ! -name "$prefix-${name##*:}.*" -delete
    podman images --format '{{.Repository}}:{{.Tag}}' "${name%:*}" \
        | { grep -vxF -e "$name" -e "$base_alias" || true; } | xargs -r podman rmi --force >/dev/null 2>&1 || true
}


ensure_base() {
    if ! from_cache "$base_image" "$base_tarball"; then
        local mirror start=$SECONDS
        mirror=${PROMFLEET_DEBIAN_MIRROR:-$(system_debian_mirror)}
        [[ -n $mirror ]] || die "no Debian mirror in the apt sources; set PROMFLEET_DEBIAN_MIRROR"
        [[ $EUID -eq 0 ]] || die "debootstrap needs root"
        command -v debootstrap >/dev/null || die "debootstrap is not on PATH (scripts/setup.sh installs it)"
        log "debootstrap $RELEASE ($BASE_PACKAGES) from $mirror"
        if ! build_base "$scratch/rootfs" "$mirror" >"$scratch/debootstrap.log" 2>&1; then
            tail -n 30 "$scratch/debootstrap.log" >&2
            die "debootstrap failed (log above)"
        fi
        tar -C "$scratch/rootfs" -c . | podman import --quiet --change 'CMD ["/bin/bash"]' - "$base_image" >/dev/null
        rm -rf "$scratch/rootfs"
        log "base $base_image built in $((SECONDS - start)) s"
        keep_only "$base_image" "$base_tarball" ee-base
    fi
    podman tag "$base_image" "$base_alias"
}

exec 9>"$cache_root/ee-image.lock"
flock 9

if [[ $mode == base ]]; then
    ensure_base
    echo "$base_image"
    exit 0
fi
if from_cache "$image" "$tarball"; then
    echo "$image"
    exit 0
fi

start=$SECONDS
ensure_base

# --- the build's sources, on the host ------------------------------------------------------------
log "collections from $ANSIBLE_COLLECTIONS_SOURCE (scripts/install_collections.py)"
ee_definition collections-yml execution-environment.yml >"$scratch/collections.yml"
"$VENV/bin/python" scripts/install_collections.py --source "$ANSIBLE_COLLECTIONS_SOURCE" \
    --requirements "$scratch/collections.yml" --dest "$cache_root/ee-collections" \
    --cache "$ROOT/.cache/collections" --tarballs "$scratch/collections" >"$scratch/collections.log" 2>&1 \
    || { cat "$scratch/collections.log" >&2; die "scripts/install_collections.py failed"; }
# installed here as in the build: checks the tarballs, and the folder introspection reads
ANSIBLE_COLLECTIONS_PATH=$scratch/installed "$VENV/bin/ansible-galaxy" collection install --offline \
    -p "$scratch/installed" "$scratch"/collections/*.tar.gz \
    >"$scratch/galaxy.log" 2>&1 || { cat "$scratch/galaxy.log" >&2; die "the collection tarballs do not install"; }

log "Python wheels (pip download, constrained by requirements.txt)"
ee_definition python-specs execution-environment.yml >"$scratch/python-specs.txt"
ee_definition exclude-system execution-environment.yml >"$scratch/exclude-bindep.txt"
"$VENV/bin/ansible-builder" introspect "$scratch/installed" --user-pip "$scratch/python-specs.txt" \
    --exclude-bindep-reqs "$scratch/exclude-bindep.txt" --write-pip "$scratch/python-all.txt" >/dev/null
# drop the comments introspection appends (`# from collection ...`): pip reads them as options
sed -i 's/[[:space:]]*#.*$//' "$scratch/python-all.txt"
"$VENV/bin/python" -m pip download --quiet --only-binary=:all: --dest "$scratch/wheels" \
    -c requirements.txt -r "$scratch/python-all.txt" >"$scratch/pip.log" 2>&1 \
    || { grep -v 'is ignored: it is neither' "$scratch/pip.log" >&2; die "pip download failed"; }

ee_definition copy execution-environment.yml "$base_image" "$scratch/collections" "$scratch/wheels" \
    "$scratch/execution-environment.yml"

# --- the build --------------------------------------------------------------------------------
build_start=$SECONDS
log "ansible-builder build $image (log: $scratch/build.log while it runs)"
# BUILDAH_LAYERS=false: no intermediate images of the stages left in the storage (the flag
# --layers=false is refused next to --squash)
if ! BUILDAH_LAYERS=false "$VENV/bin/ansible-builder" build --file "$scratch/execution-environment.yml" --context "$scratch/context" \
        --tag "$image" --container-runtime podman --squash new --extra-build-cli-args='--network=none' \
        --verbosity 2 >"$scratch/build.log" 2>&1; then
    tail -n 40 "$scratch/build.log" >&2
    die "ansible-builder build failed (log above)"
fi
log "built $image in $((SECONDS - build_start)) s"
keep_only "$image" "$tarball" ee-image
log "done in $((SECONDS - start)) s"
echo "$image"

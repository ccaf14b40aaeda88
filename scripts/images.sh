# shellcheck shell=bash
# Helpers of the scripts that build images from Debian packages without a registry
# (scripts/testbed_image.sh, scripts/ee_image.sh); sourced, part of each image's cache key.
# scripts/kube/build.sh keeps its own copy of system_debian_mirror: its key is its own text, and
# a new key rebuilds Kubernetes (minutes).

# Write the containers.conf podman needs on this VM to $1 and export it as CONTAINERS_CONF: runc,
# explicit ulimits (the VM lacks CAP_SYS_RESOURCE: crun cannot raise RLIMIT_NOFILE).
# tests/support/testbed.py writes the same text.
use_containers_conf() {
    local file=$1
    mkdir -p "$(dirname "$file")"
    cat >"$file.new" <<'EOF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
EOF
    mv "$file.new" "$file"
    export CONTAINERS_CONF=$file
}

# The Debian archive this machine already uses (its apt sources).
system_debian_mirror() {
    local file
    for file in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -r $file ]] || continue
        awk '$1 == "URIs:" { for (i = 2; i <= NF; i++) print $i }
             $1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/) { print $i; break } }' "$file"
    done | { grep -E '/debian/?$' || true; } | head -n1 | sed 's:/*$::'
}

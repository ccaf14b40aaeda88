#!/usr/bin/env bash
# ansible-test sanity on a copy of this collection, fully offline except PyPI.
#
#   bash scripts/sanity.sh                      # every sanity test
#   bash scripts/sanity.sh --test pep8          # extra arguments go to `ansible-test sanity`
#
# - ansible-test needs the collection at .../ansible_collections/<namespace>/<name>/: the files git
#   knows about (tracked, plus untracked that are not ignored) are copied with rsync to
#   .tmp/sanity/ansible_collections/promfleet/federation/.
# - The copy gets its own `git init`: ansible-test lists content with `git ls-files` from the nearest
#   .git upwards, and without one it would find this checkout's .git, where .tmp/ is ignored, and
#   so see no files at all.
# - The collections we depend on are linked next to the copy so imports of them resolve.
# - HOME is a scratch folder (.tmp/sanity-home): ansible-test keeps its per-test virtualenvs and
#   caches in ~/.ansible/test; nothing outside the work tree changes. The second run reuses them.
# - ansible-test bootstraps pip into each virtualenv with a get-pip script from a host that is not
#   reachable; its cache file is replaced by a stand-in that runs ensurepip (in a child process, so
#   ensurepip's PIP_* environment changes cannot leak), then `pip install`
#   with the arguments given (pip and the pinned test tools come from PyPI).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
VENV=$ROOT/.venv
NAMESPACE=promfleet
NAME=federation
PYTHON_VERSION=${SANITY_PYTHON:-3.11}
SANITY_ROOT=$ROOT/.tmp/sanity
COPY=$SANITY_ROOT/ansible_collections/$NAMESPACE/$NAME
SCRATCH_HOME=$ROOT/.tmp/sanity-home
START=$SECONDS

log() { printf 'sanity: %s\n' "$*"; }
die() { printf 'sanity: ERROR: %s\n' "$*" >&2; exit 1; }

[[ -x $VENV/bin/ansible-test ]] || die "no $VENV/bin/ansible-test: run scripts/setup.sh (make setup) first"
git rev-parse --is-inside-work-tree >/dev/null 2>&1 || die "$ROOT is not a git checkout"
export PATH=$VENV/bin:$PATH

# --- the copy ---------------------------------------------------------------------------------
log "copying the collection to ${COPY#"$ROOT"/}"
rm -rf "$COPY"
mkdir -p "$COPY"
# -c also lists tracked files deleted in the work tree: --ignore-missing-args skips them
# collections/ansible_collections/promfleet/federation (the committed link an AWX project finds the
# collection through) is left out: galaxy.yml's build_ignore keeps it out of the collection too.
git ls-files -z -c -o --exclude-standard \
    | { grep -zv '^collections/ansible_collections/' || true; } \
    | rsync -a --from0 --files-from=- --ignore-missing-args "$ROOT/" "$COPY/"
git -c init.defaultBranch=main init -q "$COPY"

shopt -s nullglob
# collections this one depends on, next to the copy (ansible-test adds its parent to the collection path)
for ns_dir in "$ROOT"/collections/ansible_collections/*/; do
    ns=$(basename "$ns_dir")
    [[ $ns == "$NAMESPACE" ]] && continue
    ln -sfn "$ns_dir" "$SANITY_ROOT/ansible_collections/$ns"
done

# --- scratch HOME with the offline get-pip stand-in --------------------------------------------
# keep this user's pip settings (index, proxy, certificates) once HOME points elsewhere
if [[ -z ${PIP_CONFIG_FILE:-} ]]; then
    for conf in "${XDG_CONFIG_HOME:-$HOME/.config}/pip/pip.conf" "$HOME/.pip/pip.conf"; do
        if [[ -f $conf ]]; then
            export PIP_CONFIG_FILE=$conf
            break
        fi
    done
fi
pip_version=$("$VENV/bin/python" - "$PYTHON_VERSION" <<'EOF'
import sys
from types import SimpleNamespace

from ansible_test._internal.python_requirements import get_venv_packages

print(get_venv_packages(SimpleNamespace(version=sys.argv[1]))["pip"])
EOF
)
GET_PIP=$SCRATCH_HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py
mkdir -p "$(dirname "$GET_PIP")"
cat >"$GET_PIP.new" <<'EOF'
"""Offline stand-in for get-pip.py, written by scripts/sanity.sh for ansible-test.

ansible-test runs it with the interpreter of a new virtualenv created without pip and with pip's
install arguments (e.g. `--disable-pip-version-check pip==24.2 --no-setuptools --no-wheel`).
"""

import os
import subprocess
import sys

args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
# Bootstrap pip from the wheels bundled with Python. ensurepip drops every PIP_* variable and sets
# PIP_CONFIG_FILE=/dev/null (losing this machine's pip settings): in a child process that cannot
# leak into the `pip install` below, which gets os.environ as it was.
boot = subprocess.run([sys.executable, "-m", "ensurepip", "--default-pip"],
                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
if boot.returncode != 0:
    sys.stderr.write(boot.stdout)
    sys.exit(boot.returncode)
pip = [sys.executable, "-m", "pip"]
status = subprocess.call(pip + ["install", "--quiet"] + args, env=dict(os.environ))
if status == 0 and "--no-setuptools" in sys.argv[1:]:
    # get-pip.py would not have installed it; ensurepip of Python < 3.12 does
    status = subprocess.call(pip + ["uninstall", "--quiet", "--yes", "setuptools"])
sys.exit(status)
EOF
mv "$GET_PIP.new" "$GET_PIP"
export HOME=$SCRATCH_HOME
export ANSIBLE_HOME=$SCRATCH_HOME/.ansible
export TMPDIR=$ROOT/.tmp/sanity-tmp
mkdir -p "$TMPDIR"
unset ANSIBLE_CONFIG ANSIBLE_COLLECTIONS_PATH ANSIBLE_COLLECTIONS_PATHS

# --- run --------------------------------------------------------------------------------------
log "ansible-test sanity --local --python $PYTHON_VERSION $*"
cd "$COPY"
status=0
ansible-test sanity --local --python "$PYTHON_VERSION" --color no --junit "$@" || status=$?
log "finished in $((SECONDS - START)) s with status $status (results: ${COPY#"$ROOT"/}/tests/output/)"
exit "$status"

#!/usr/bin/env bash
# Linters: ansible-lint (production profile, offline; see .ansible-lint), yamllint (.yamllint) and
# ruff (ruff.toml). All three always run; the exit status is non-zero when any of them fails.
#
#   bash scripts/lint.sh              # everything
#   bash scripts/lint.sh ruff         # only some of: ansible-lint yamllint ruff
#
# collections/ansible_collections/promfleet/federation links back to this checkout (a loop):
# every tool is configured to leave collections/ansible_collections alone.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
VENV=$ROOT/.venv

log() { printf 'lint: %s\n' "$*"; }
die() { printf 'lint: ERROR: %s\n' "$*" >&2; exit 1; }

[[ -x $VENV/bin/ansible-lint ]] || die "no $VENV/bin/ansible-lint: run scripts/setup.sh (make setup) first"
export PATH=$VENV/bin:$PATH
# keep ansible's and ansible-lint's caches inside the work tree (the Makefile sets the same)
export ANSIBLE_HOME=${ANSIBLE_HOME:-$ROOT/.tmp/ansible-home}
export ANSIBLE_LOCAL_TEMP=${ANSIBLE_LOCAL_TEMP:-$ROOT/.tmp/ansible-local}
export ANSIBLE_CONFIG=${ANSIBLE_CONFIG:-$ROOT/ansible.cfg}
export NO_COLOR=1 PY_COLORS=0

tools=("$@")
[[ ${#tools[@]} -gt 0 ]] || tools=(ansible-lint yamllint ruff)

failed=()
for tool in "${tools[@]}"; do
    start=$SECONDS
    case $tool in
        ansible-lint)
            cmd=(ansible-lint --offline --nocolor)
            ;;
        yamllint)
            cmd=(yamllint --strict --format standard .)
            ;;
        ruff)
            paths=()
            for dir in plugins tests bench scripts; do
                [[ -d $dir ]] && paths+=("$dir")
            done
            cmd=(ruff check --no-fix --output-format concise "${paths[@]}")
            ;;
        *)
            die "unknown tool $tool (expected ansible-lint, yamllint or ruff)"
            ;;
    esac
    log "${cmd[*]}"
    if "${cmd[@]}"; then
        log "$tool passed ($((SECONDS - start)) s)"
    else
        log "$tool FAILED ($((SECONDS - start)) s)"
        failed+=("$tool")
    fi
done

if [[ ${#failed[@]} -gt 0 ]]; then
    log "failed: ${failed[*]}"
    exit 1
fi
log "all passed"

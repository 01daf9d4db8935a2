#!/usr/bin/env bash
# Lint every GitHub workflow in .github/workflows with actionlint (syntax, expressions, contexts,
# action inputs, and the `run:` scripts through shellcheck when shellcheck is on PATH).
#
# actionlint is built from source with `go install` at the pinned version below (the module proxy
# is reachable, binary downloads are not) and cached under
# ${SLIPWAY_CACHE:-$HOME/.cache/slipway}/actionlint-<version>/, so only the first run pays ~30 s.
# Exit status: 0 clean, 1 findings (printed), 2 setup problem.
set -euo pipefail

ACTIONLINT_VERSION="v1.7.7"

log() { echo "actionlint.sh: $*" >&2; }

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache_dir="${SLIPWAY_CACHE:-$HOME/.cache/slipway}/actionlint-$ACTIONLINT_VERSION"
bin="$cache_dir/actionlint"

if [ ! -x "$bin" ]; then
    command -v go >/dev/null 2>&1 || { log "Go is not installed (needed to build actionlint)"; exit 2; }
    mkdir -p "$cache_dir"
    log "installing actionlint $ACTIONLINT_VERSION with go install"
    if ! GOBIN="$cache_dir" go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION" >&2; then
        log "go install failed"
        exit 2
    fi
fi

shopt -s nullglob
cd "$root"
files=(.github/workflows/*.yml .github/workflows/*.yaml)
if [ "${#files[@]}" -eq 0 ]; then
    log "no workflow files under .github/workflows"
    exit 2
fi

if ! command -v shellcheck >/dev/null 2>&1; then
    log "shellcheck not found: run: scripts are not linted (apt-get install shellcheck to include them)"
fi

# actionlint exits 1 on findings; pass that through.
"$bin" -no-color "${files[@]}"
echo "actionlint $ACTIONLINT_VERSION: ${#files[@]} workflow file(s) clean"

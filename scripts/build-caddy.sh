#!/usr/bin/env bash
# Build a Caddy binary that includes the rate-limit module (github.com/mholt/caddy-ratelimit) and
# Slipway's JWT handler (docker/caddy/jwtauth), which stock Caddy lacks and which the Gateway's JSON
# config needs (`http.handlers.rate_limit`, `http.handlers.slipway_jwt`).
#
# Interface (other scripts rely on it): the LAST line on stdout is the absolute path of the
# binary. Progress and build output go to stderr. Exit non-zero on any failure.
#
# The binary is cached under ${SLIPWAY_CACHE:-$HOME/.cache/slipway}/caddy-<hash>/caddy, where
# <hash> covers this script, the pinned versions and recipe (docker/caddy), the JWT handler's source
# (not its tests) and the Go toolchain. A second run
# only hashes and checks the file. Versions are pinned rather than @latest because the module
# proxy reachable here refuses version lists, and a cache key must mean one exact binary.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The pins live in docker/caddy/versions.env and the recipe in docker/caddy/build.sh, which the
# published image's Dockerfile runs too: the tests' Caddy and the users' are built the same way.
VERSIONS="$REPO/docker/caddy/versions.env"
RECIPE="$REPO/docker/caddy/build.sh"
# shellcheck disable=SC1090
. "$VERSIONS"

log() { echo "build-caddy: $*" >&2; }

command -v go >/dev/null 2>&1 || { log "Go is not installed (need go >= 1.24 on PATH)"; exit 1; }

cache_root="${SLIPWAY_CACHE:-$HOME/.cache/slipway}"
script_path="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
# The local modules (docker/caddy/*/: the JWT handler, the reload handoff, the edge handler) are part of the recipe; their Go tests are not.
local_files() { find "$REPO/docker/caddy" -mindepth 2 -type f ! -name '*_test.go' | LC_ALL=C sort; }
hash="$({ cat "$script_path" "$VERSIONS" "$RECIPE"; local_files | while read -r f; do echo "${f#"$REPO"/}"; cat "$f"; done; go version; go env GOOS GOARCH; } | sha256sum | cut -c1-16)"
out_dir="$cache_root/caddy-$hash"
bin="$out_dir/caddy"

usable() {
    [ -x "$bin" ] || return 1
    local mods
    mods="$("$bin" list-modules 2>/dev/null)" || return 1
    grep -qx 'http.handlers.rate_limit' <<<"$mods" && grep -qx 'http.handlers.slipway_jwt' <<<"$mods" && grep -qx 'caddy.listeners.slipway_handoff' <<<"$mods" && grep -qx 'http.handlers.slipway_edge' <<<"$mods" && grep -qx 'caddy.logging.encoders.slipway_deferred' <<<"$mods"
}

if usable; then
    echo "$bin"
    exit 0
fi

mkdir -p "$out_dir"
# Serialize concurrent builds (two test runs, or CI plus the image build) on one lock file.
exec 9>"$out_dir/.lock"
flock 9
if usable; then
    echo "$bin"
    exit 0
fi

log "building caddy $CADDY_VERSION with $RATELIMIT_MODULE@$RATELIMIT_VERSION and $JWT_MODULE (a few minutes the first time)"
tmp="$out_dir/caddy.tmp.$$"
trap 'rm -f "$tmp"' EXIT
# Its own Go build cache: build-images.sh puts it into the Go toolchain image (images/go), so the
# package test's build of docker/caddy/Dockerfile compiles nothing this build already compiled.
GOCACHE="$cache_root/caddy-gocache" sh "$RECIPE" "$VERSIONS" "$tmp" "$cache_root/tools/xcaddy-$XCADDY_VERSION"
mv -f "$tmp" "$bin"
if ! usable; then
    log "built $bin but it does not list http.handlers.rate_limit, http.handlers.slipway_jwt, caddy.listeners.slipway_handoff and http.handlers.slipway_edge"
    exit 1
fi
log "built $("$bin" version)"
echo "$bin"

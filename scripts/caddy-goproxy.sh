#!/usr/bin/env bash
# A file:// Go module proxy holding exactly the modules docker/caddy/build.sh needs, for building
# docker/caddy/Dockerfile on an engine whose build containers cannot reach proxy.golang.org (this
# machine's: they do not trust its TLS interception). Only tests use it; a stranger's engine
# fetches from proxy.golang.org.
#
#   scripts/caddy-goproxy.sh     -> last stdout line: the proxy directory
#
# How: the same build.sh runs on the host with an empty module cache and GOPATH, so the host's Go
# fetches (through its own GOPROXY) and verifies (against sum.golang.org) every module the build
# needs; the cache's download/ tree is then a GOPROXY layout. The checksum database goes along:
# the verified lookups and tiles from that run, and the signed tree head the host's Go saw, so the
# build inside Docker checks every module against sum.golang.org's data without reaching it.
# Cached by the recipe's hash under ${SLIPWAY_CACHE:-$HOME/.cache/slipway}/caddy-goproxy-<hash>.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${SLIPWAY_CACHE:-$HOME/.cache/slipway}"
log() { echo "caddy-goproxy: $*" >&2; }
command -v go >/dev/null 2>&1 || { log "Go is not installed"; exit 1; }

# The local modules' go.mod and go.sum decide which of their dependencies the build fetches.
hash="$({ cat "$0" "$REPO/docker/caddy/versions.env" "$REPO/docker/caddy/build.sh"; find "$REPO/docker/caddy" -mindepth 2 -type f \( -name go.mod -o -name go.sum \) | LC_ALL=C sort | xargs cat; go version; } | sha256sum | cut -c1-16)"
out="$CACHE/caddy-goproxy-$hash"
if [ -f "$out/.complete" ]; then echo "$out"; exit 0; fi

mkdir -p "$CACHE"
exec 9>"$CACHE/.caddy-goproxy.lock"
flock 9
if [ -f "$out/.complete" ]; then echo "$out"; exit 0; fi

work="$(mktemp -d "$CACHE/caddy-goproxy.work.XXXXXX")"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
log "fetching the modules of docker/caddy/build.sh into an empty module cache"
GOPATH="$work/gopath" GOMODCACHE="$work/gopath/pkg/mod" GOFLAGS=-mod=mod \
    sh "$REPO/docker/caddy/build.sh" "$REPO/docker/caddy/versions.env" "$work/caddy" "$work/tools" >"$work/build.log" 2>&1 \
    || { tail -n 30 "$work/build.log" >&2; log "the host build failed"; exit 1; }

rm -rf "$out.tmp"
cp -a "$work/gopath/pkg/mod/cache/download" "$out.tmp"
chmod -R u+w "$out.tmp"
sumdb="$work/gopath/pkg/sumdb/sum.golang.org/latest"
[ -f "$sumdb" ] || { log "no checksum database tree head in $sumdb (was GOSUMDB off on the host?)"; exit 1; }
mkdir -p "$out.tmp/sumdb/sum.golang.org"
cp "$sumdb" "$out.tmp/sumdb/sum.golang.org/latest"
# A proxy that answers sumdb/<name>/supported serves the checksum database itself (go help goproxy).
: >"$out.tmp/sumdb/sum.golang.org/supported"
rm -rf "$out"
mv "$out.tmp" "$out"
: >"$out/.complete"
log "$(find "$out" -name '*.zip' | wc -l) module zips, $(du -sh "$out" | cut -f1)"
echo "$out"

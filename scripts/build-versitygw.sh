#!/usr/bin/env bash
# Build versitygw (github.com/versity/versitygw), an S3-compatible server, from its Go module: the
# real S3 server the off-site backup test uploads to and restores from (posix backend on a dir).
#
# Interface (like build-caddy.sh): the LAST line on stdout is the absolute path of the binary.
# Progress and build output go to stderr. Exit non-zero on any failure.
#
# Cached under ${SLIPWAY_CACHE:-$HOME/.cache/slipway}/versitygw-<hash>/versitygw, <hash> covering
# this script (so the pinned version) and the Go toolchain. Pinned, because the module proxy here
# refuses version lists and a cache key must mean one exact binary.
set -euo pipefail

VERSITYGW_VERSION="v1.8.0"

log() { echo "build-versitygw: $*" >&2; }

command -v go >/dev/null 2>&1 || { log "Go is not installed (need go >= 1.24 on PATH)"; exit 1; }

cache_root="${SLIPWAY_CACHE:-$HOME/.cache/slipway}"
script_path="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
hash="$({ cat "$script_path"; go version; go env GOOS GOARCH; } | sha256sum | cut -c1-16)"
out_dir="$cache_root/versitygw-$hash"
bin="$out_dir/versitygw"

usable() { [ -x "$bin" ] && "$bin" --version >/dev/null 2>&1; }

if usable; then echo "$bin"; exit 0; fi
mkdir -p "$out_dir"
exec 9>"$out_dir/.lock"
flock 9
if usable; then echo "$bin"; exit 0; fi

log "building versitygw $VERSITYGW_VERSION (a few minutes the first time)"
# A throwaway module that requires the pinned version: `go install pkg@version` would also ask
# the proxy for the version list, which it refuses here.
src="$(mktemp -d)"
tmp="$out_dir/versitygw.tmp.$$"
trap 'rm -rf "$src" "$tmp"' EXIT
cat >"$src/go.mod" <<GOMOD
module slipway.local/versitygw-tool

go 1.24

require github.com/versity/versitygw $VERSITYGW_VERSION
GOMOD
cat >"$src/tools.go" <<'GO'
//go:build tools

package tools

import _ "github.com/versity/versitygw/cmd/versitygw"
GO
# CGO off: a static binary the (glibc-free-assuming) image can run as is.
(cd "$src" && GOFLAGS=-mod=mod go mod tidy >&2 && GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$tmp" github.com/versity/versitygw/cmd/versitygw) >&2
mv -f "$tmp" "$bin"
usable || { log "built $bin but it does not run"; exit 1; }
log "built $("$bin" --version 2>&1 | head -n 1)"
echo "$bin"

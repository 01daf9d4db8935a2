#!/usr/bin/env bash
# Build Let's Encrypt's Pebble (a small ACME test server) and pebble-challtestsrv (its DNS and
# challenge test server) from their Go module, for the Gateway's ACME test
# (test/integration/gateway-acme.real-docker.test.ts) and images/pebble.
#
# Interface (other scripts rely on it): the LAST line on stdout is the absolute path of the
# directory holding `pebble` and `pebble-challtestsrv`. Progress and build output go to stderr.
#
# Cached under ${SLIPWAY_CACHE:-$HOME/.cache/slipway}/pebble-<hash>/, where <hash> covers this
# script (so the pinned version) and the Go toolchain. Static binaries (CGO off), so the image
# built FROM the Slipway base needs no libc of a particular version.
set -euo pipefail

PEBBLE_MODULE="github.com/letsencrypt/pebble/v2"
PEBBLE_VERSION="v2.10.3"

log() { echo "build-pebble: $*" >&2; }

command -v go >/dev/null 2>&1 || { log "Go is not installed (need go >= 1.25 on PATH)"; exit 1; }

cache_root="${SLIPWAY_CACHE:-$HOME/.cache/slipway}"
script_path="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
hash="$({ cat "$script_path"; go version; go env GOOS GOARCH; } | sha256sum | cut -c1-16)"
out_dir="$cache_root/pebble-$hash"

usable() { [ -x "$out_dir/pebble" ] && [ -x "$out_dir/pebble-challtestsrv" ]; }

if usable; then
    echo "$out_dir"
    exit 0
fi

mkdir -p "$out_dir"
# Serialize concurrent builds (two test runs, or a test plus build-images.sh) on one lock file.
exec 9>"$out_dir/.lock"
flock 9
if usable; then
    echo "$out_dir"
    exit 0
fi

log "building pebble and pebble-challtestsrv $PEBBLE_VERSION (a minute the first time)"
# A throwaway module that requires the pinned version: `go install pkg@version` would also read
# the module's version list, which the module proxy here may refuse.
src="$(mktemp -d)"
trap 'rm -rf "$src" "$out_dir"/*.tmp.$$' EXIT
cat >"$src/go.mod" <<GOMOD
module slipway.local/pebble-tool

go 1.25

require $PEBBLE_MODULE $PEBBLE_VERSION
GOMOD
for cmd in pebble pebble-challtestsrv; do
    (cd "$src" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags='-s -w' \
        -o "$out_dir/$cmd.tmp.$$" "$PEBBLE_MODULE/cmd/$cmd") >&2
    mv -f "$out_dir/$cmd.tmp.$$" "$out_dir/$cmd"
done
usable || { log "built, but $out_dir lacks the binaries"; exit 1; }
log "built $out_dir"
echo "$out_dir"

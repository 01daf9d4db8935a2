#!/usr/bin/env bash
# Build the commands of a pinned Go module as static binaries, for the real servers the tests run
# in containers (images/pebble, images/versitygw):
#
#   scripts/build-go-tool.sh pebble      -> Let's Encrypt's Pebble and pebble-challtestsrv
#   scripts/build-go-tool.sh versitygw   -> versitygw, an S3-compatible server
#
# Interface (other scripts rely on it): the LAST line on stdout is the absolute path of the
# directory holding the binaries (named after their commands). Progress and build output go to stderr.
#
# Cached under ${SLIPWAY_CACHE:-$HOME/.cache/slipway}/<tool>-<hash>/, where <hash> covers this
# script (so the pins below) and the Go toolchain. Pinned, because the module proxy here refuses
# version lists and a cache key must mean one exact binary. CGO off: the images built FROM the
# Slipway base then need no libc of a particular version.
set -euo pipefail

tool="${1:?usage: build-go-tool.sh pebble|versitygw}"
case "$tool" in
    pebble) module="github.com/letsencrypt/pebble/v2"; version="v2.10.3"; go_line="1.25"; cmds=(pebble pebble-challtestsrv) ;;
    versitygw) module="github.com/versity/versitygw"; version="v1.8.0"; go_line="1.24"; cmds=(versitygw) ;;
    *) echo "build-go-tool: unknown tool $tool (pebble or versitygw)" >&2; exit 2 ;;
esac

log() { echo "build-go-tool: $*" >&2; }

command -v go >/dev/null 2>&1 || { log "Go is not installed (need go >= $go_line on PATH)"; exit 1; }

cache_root="${SLIPWAY_CACHE:-$HOME/.cache/slipway}"
script_path="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
hash="$({ cat "$script_path"; echo "$tool"; go version; go env GOOS GOARCH; } | sha256sum | cut -c1-16)"
out_dir="$cache_root/$tool-$hash"

usable() { for c in "${cmds[@]}"; do [ -x "$out_dir/$c" ] || return 1; done; }

if usable; then echo "$out_dir"; exit 0; fi
mkdir -p "$out_dir"
# Serialize concurrent builds (two test runs, or a test plus build-images.sh) on one lock file.
exec 9>"$out_dir/.lock"
flock 9
if usable; then echo "$out_dir"; exit 0; fi

log "building $tool $version (a minute or a few the first time)"
# A throwaway module that requires the pinned version: `go install pkg@version` would also ask
# the proxy for the version list, which it refuses here.
src="$(mktemp -d)"
trap 'rm -rf "$src" "$out_dir"/*.tmp.$$' EXIT
printf 'module slipway.local/%s-tool\n\ngo %s\n\nrequire %s %s\n' "$tool" "$go_line" "$module" "$version" >"$src/go.mod"
{ echo "//go:build tools"; echo; echo "package tools"; echo
  for c in "${cmds[@]}"; do echo "import _ \"$module/cmd/$c\""; done; } >"$src/tools.go"
(cd "$src" && GOFLAGS=-mod=mod go mod tidy) >&2
for c in "${cmds[@]}"; do
    (cd "$src" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags='-s -w' -o "$out_dir/$c.tmp.$$" "$module/cmd/$c") >&2
    mv -f "$out_dir/$c.tmp.$$" "$out_dir/$c"
done
usable || { log "built, but $out_dir lacks the binaries"; exit 1; }
log "built $out_dir"
echo "$out_dir"

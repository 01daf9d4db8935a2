#!/bin/sh
# Build Caddy with the rate-limit module from docker/caddy/versions.env and Slipway's own listener
# wrapper (handoff/, a local module: connections handed to the new config on a reload): xcaddy built from its
# pinned module (not `go install xcaddy@version`, which also reads the module's version list, which
# some module proxies refuse), then `xcaddy build`. The Dockerfile's build stage runs this; scripts/
# build-caddy.sh runs the same file on the host, so the tests' binary and the image's are one recipe.
#
#   build.sh <versions.env> <output binary> <xcaddy dir>
set -eu
versions="$1" out="$2" tools="$3"
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck disable=SC1090
. "$versions"
export CGO_ENABLED=0 GOFLAGS=-mod=mod
if [ ! -x "$tools/xcaddy" ]; then
    echo "build.sh: building xcaddy $XCADDY_VERSION" >&2
    src="$(mktemp -d)"
    printf 'module slipway.local/xcaddy-tool\n\ngo 1.22\n\nrequire github.com/caddyserver/xcaddy %s\n' "$XCADDY_VERSION" >"$src/go.mod"
    (cd "$src" && go build -o "$tools/xcaddy" github.com/caddyserver/xcaddy/cmd/xcaddy) >&2
    rm -rf "$src"
fi
echo "build.sh: building caddy $CADDY_VERSION with $RATELIMIT_MODULE@$RATELIMIT_VERSION" >&2
# xcaddy works in a temp dir of its own; CGO off gives a static binary.
"$tools/xcaddy" build "$CADDY_VERSION" --with "$RATELIMIT_MODULE@$RATELIMIT_VERSION" \
    --with "slipway.local/handoff@v0.0.0=$here/handoff" --output "$out" >&2
for m in http.handlers.rate_limit caddy.listeners.slipway_handoff; do
    "$out" list-modules | grep -qx "$m" || { echo "build.sh: $out lacks $m" >&2; exit 1; }
done

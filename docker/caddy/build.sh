#!/bin/sh
# Build Caddy with the rate-limit module from docker/caddy/versions.env and Slipway's own local
# modules beside versions.env (jwtauth/: the JWT handler; handoff/: the listener wrapper that hands
# connections to the new config on a reload; edge/: the request id, headers, metrics and access log): xcaddy built from its
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
jwt_src="$(cd "$(dirname "$versions")/jwtauth" && pwd)"
handoff_src="$(cd "$(dirname "$versions")/handoff" && pwd)"
edge_src="$(cd "$(dirname "$versions")/edge" && pwd)"
echo "build.sh: building caddy $CADDY_VERSION with $RATELIMIT_MODULE@$RATELIMIT_VERSION, $JWT_MODULE ($jwt_src) handoff ($handoff_src) and edge ($edge_src)" >&2
# xcaddy works in a temp dir of its own; CGO off gives a static binary. `module=dir` builds a
# local module from its source (a replace directive). The version v0.0.0 is only a name for
# that replacement: without one, `go get` asks the module proxy for the latest version first.
"$tools/xcaddy" build "$CADDY_VERSION" --with "$RATELIMIT_MODULE@$RATELIMIT_VERSION" --with "$JWT_MODULE@v0.0.0=$jwt_src" \
    --with "slipway.local/handoff@v0.0.0=$handoff_src" --with "slipway.local/edge@v0.0.0=$edge_src" --output "$out" >&2
for m in http.handlers.rate_limit http.handlers.slipway_jwt caddy.listeners.slipway_handoff http.handlers.slipway_edge caddy.logging.encoders.slipway_deferred; do
    "$out" list-modules | grep -qx "$m" || { echo "build.sh: $out lacks $m" >&2; exit 1; }
done

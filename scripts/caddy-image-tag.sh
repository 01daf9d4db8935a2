#!/usr/bin/env bash
# The tag of the Gateway's Caddy image built from this checkout: the Caddy and caddy-ratelimit
# versions of docker/caddy/versions.env, then a short hash of Slipway's own Caddy modules'
# sources (docker/caddy/<module>/, tests excluded). The Gateway's generated config needs those
# modules (slipway_edge, slipway_jwt, slipway_handoff) as this checkout wrote them, so an image
# built from other sources must not carry the same name.
#
#   scripts/caddy-image-tag.sh    -> e.g. 2.10.2-ratelimit-0.1.0-slipway-1a2b3c4d
#
# test/unit/caddy-image-tag.test.ts computes the same hash and checks the Gateway's default image
# (components/gateway/published-image.ts) names it. The hash covers, per file in byte order of
# its path: the path relative to docker/caddy, a newline, the file's bytes.
set -euo pipefail
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../docker/caddy" && pwd)"
# shellcheck disable=SC1091
. "$dir/versions.env"
hash="$(cd "$dir" && find . -mindepth 2 -type f ! -name '*_test.go' | sed 's|^\./||' | LC_ALL=C sort | while read -r f; do printf '%s\n' "$f"; cat "$f"; done | sha256sum | cut -c1-8)"
echo "${CADDY_VERSION#v}-ratelimit-${RATELIMIT_VERSION#v}-slipway-$hash"

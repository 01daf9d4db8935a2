#!/usr/bin/env bash
# Make `promtool` available for the Prometheus rule tests. Uses Debian's `prometheus` package only
# (no binary downloads). Prints the path of promtool on success; exits non-zero with apt's output
# otherwise, so the calling test fails with the reason instead of skipping.
set -euo pipefail
if command -v promtool >/dev/null 2>&1; then command -v promtool; exit 0; fi
if ! command -v apt-get >/dev/null 2>&1; then echo "promtool missing and apt-get unavailable" >&2; exit 1; fi
export DEBIAN_FRONTEND=noninteractive
# An install can fail on a stale or empty package list: refresh once and retry.
if ! apt-get install -y --no-install-recommends prometheus >&2; then
  apt-get update >&2
  apt-get install -y --no-install-recommends prometheus >&2
fi
command -v promtool

#!/usr/bin/env bash
# Make `wrk` (the HTTP load generator `npm run bench` measures the Gateway with) available. Uses
# Debian's `wrk` package only. Prints the path of wrk on success; exits non-zero with apt's output
# otherwise, so the bench fails with the reason instead of skipping.
set -euo pipefail
if command -v wrk >/dev/null 2>&1; then command -v wrk; exit 0; fi
if ! command -v apt-get >/dev/null 2>&1; then echo "wrk missing and apt-get unavailable" >&2; exit 1; fi
export DEBIAN_FRONTEND=noninteractive
# An install can fail on a stale or empty package list: refresh once and retry.
if ! apt-get install -y --no-install-recommends wrk >&2; then
  apt-get update >&2
  apt-get install -y --no-install-recommends wrk >&2
fi
command -v wrk

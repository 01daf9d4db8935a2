#!/usr/bin/env bash
# Make `amtool` available for the Alertmanager config tests. Uses Debian's `prometheus-alertmanager`
# package only (no binary downloads; the same 0.25 as images/alertmanager). Prints the path of
# amtool on success; exits non-zero with apt's output otherwise, so the calling test fails with the
# reason instead of skipping. Only amtool is used: on a host with a running systemd the package
# also starts its service (on :9093), which these tests neither need nor touch.
set -euo pipefail
if command -v amtool >/dev/null 2>&1; then command -v amtool; exit 0; fi
if ! command -v apt-get >/dev/null 2>&1; then echo "amtool missing and apt-get unavailable" >&2; exit 1; fi
export DEBIAN_FRONTEND=noninteractive
# An install can fail on a stale or empty package list: refresh once and retry.
if ! apt-get install -y --no-install-recommends prometheus-alertmanager >&2; then
  apt-get update >&2
  apt-get install -y --no-install-recommends prometheus-alertmanager >&2
fi
command -v amtool

#!/usr/bin/env bash
# Make a real container registry and htpasswd available for the private-registry tests: Debian's
# `docker-registry` (the CNCF distribution registry) and `apache2-utils` (htpasswd, for a bcrypt
# password file). Debian packages only. Prints the registry's path on success; exits non-zero with
# apt's output otherwise, so the calling test fails with the reason instead of skipping.
set -euo pipefail
need=()
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || need+=(apache2-utils)
if [ ${#need[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then echo "missing ${need[*]} and apt-get unavailable" >&2; exit 1; fi
  export DEBIAN_FRONTEND=noninteractive
  # An install can fail on a stale or empty package list: refresh once and retry.
  if ! apt-get install -y --no-install-recommends "${need[@]}" >&2; then
    apt-get update >&2
    apt-get install -y --no-install-recommends "${need[@]}" >&2
  fi
fi
command -v docker-registry

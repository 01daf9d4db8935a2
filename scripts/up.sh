#!/usr/bin/env bash
# npm run up -- <stack> [extra pulumi up flags]
# Wraps `pulumi up` for one environment. With no backend configured it uses an embedded default:
# a local file backend inside the repo and a dev-only passphrase (refused for production stacks).
set -euo pipefail
cd "$(dirname "$0")/.."
stack="${1:-}"
if [ -z "$stack" ] || [ ! -f "Pulumi.$stack.yaml" ]; then
  echo "usage: npm run up -- <stack>   (stacks: $(ls Pulumi.*.yaml | sed -E 's/Pulumi\.(.*)\.yaml/\1/' | tr '\n' ' '))" >&2
  exit 2
fi
shift

if ! command -v pulumi >/dev/null 2>&1; then
  cat >&2 <<MSG
The Pulumi CLI is not installed, so nothing can be deployed from this machine.
  Install it: https://www.pulumi.com/docs/install/  (e.g. curl -fsSL https://get.pulumi.com | sh)
  Meanwhile:  npm run synth -- $stack   shows what would be created, with no CLI and no credentials.
MSG
  exit 127
fi

if [ -z "${PULUMI_BACKEND_URL:-}" ] && ! pulumi whoami >/dev/null 2>&1; then
  export PULUMI_BACKEND_URL="file://$PWD/.pulumi-state"
  mkdir -p .pulumi-state
  if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
    if grep -qE '^\s*slipway:production:\s*"?true' "Pulumi.$stack.yaml"; then
      echo "Stack $stack is production: set PULUMI_CONFIG_PASSPHRASE (or a real backend) instead of the dev-only default." >&2
      exit 2
    fi
    export PULUMI_CONFIG_PASSPHRASE="slipway-dev-only"
    echo "note: no Pulumi backend configured; using $PULUMI_BACKEND_URL with the dev-only passphrase." >&2
  fi
fi

pulumi stack select "$stack" 2>/dev/null || pulumi stack init "$stack"
exec pulumi up --stack "$stack" "$@"

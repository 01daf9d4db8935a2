#!/usr/bin/env bash
# npm test: everything, in order of speed. Each phase installs or starts the real parts it needs
# (dockerd, images, Caddy, promtool, actionlint), so it works on a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
phase() { echo; echo "== $*"; }
phase "typecheck";            npm run --silent typecheck
phase "workflows (actionlint)"; bash scripts/actionlint.sh
phase "unit, component, synth, preview-comment tests"; npm run --silent test:unit
phase "example API (go test)"; (cd examples/api && go test ./...)
phase "package: npm pack + example consumer"; npm run --silent test:package
phase "real Docker engine";   npm run --silent test:integration

#!/usr/bin/env bash
# npm test: everything, in order of speed. Each phase installs or starts the real parts it needs
# (dockerd, images, Caddy, promtool, actionlint), so it works on a fresh machine. test:unit starts
# no outside tool (only our own synth CLI under node); the suites that run real tools (Caddy,
# promtool, Postgres, Go, npm run build) are test:tools.
set -euo pipefail
cd "$(dirname "$0")/.."
log="$(mktemp)"
start=$(date +%s)
phase() { echo; echo "== $* ($(( $(date +%s) - start ))s)"; }
# Sum what every runner reported, so the last line says what ran even when a phase fails.
summary() {
  local status=$? passed failed
  set +e # a grep that finds no "failing" line must not turn a green run red
  passed=$(grep -aoE '^\s*[0-9]+ passing' "$log" | awk '{s+=$1} END {print s+0}')
  failed=$(grep -aoE '^\s*[0-9]+ failing' "$log" | awk '{s+=$1} END {print s+0}')
  echo
  echo "all phases took $(( $(date +%s) - start ))s"
  echo "total: $passed passed, $failed failed"
  rm -f "$log"
  exit "$status"
}
trap summary EXIT
run() { "$@" 2>&1 | tee -a "$log"; }

phase "typecheck";                 run npm run --silent typecheck
phase "lint (eslint)";             run npm run --silent lint
phase "workflows (actionlint)";    run bash scripts/actionlint.sh
phase "unit, component, synth, preview-comment tests"; run npm run --silent test:unit
phase "real tools: Caddy, promtool, Postgres (and Go, npm run build)"; run npm run --silent test:tools
phase "stack program through @pulumi/pulumi's run entry (fake engine)"; run npm run --silent test:program
phase "example API (go test)";     (cd examples/api && run go test ./...)
phase "Caddy JWT module (go test)"; (cd docker/caddy/jwtauth && GOFLAGS=-mod=mod run go test ./...)
phase "Caddy edge module (go test)"; (cd docker/caddy/edge && GOFLAGS=-mod=mod run go test ./...)
phase "Caddy handoff module (go test)"; (cd docker/caddy/handoff && GOFLAGS=-mod=mod run go test ./...)
phase "package: npm pack + example consumer"; run npm run --silent test:package
phase "real Docker engine (images are built once, then cached)"; run npm run --silent test:integration

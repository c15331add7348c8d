#!/usr/bin/env bash
# The one test command (README "Run the tests"): every suite, in order, stopping at the first failure.
# Assumes the machine is provisioned (.ci/run does that on a bare machine; see README "Prerequisites").
set -euo pipefail
cd "$(dirname "$0")/.."

passed=0
run() { echo; echo "=== $1 ==="; shift; "$@"; passed=$((passed + 1)); }

run "backend (pytest: FerretDB, Azurite, real JWKS)" bash scripts/test-backend.sh
run "SPA unit (vitest)"                               bash scripts/test-ui.sh
run "pipeline (manifests, compose, nginx, workflows, Dagger logic)" bash scripts/test-pipeline.sh
run "e2e on Docker Compose (HTTP + Chromium)"         bash scripts/test-e2e.sh
run "Kubernetes v1.34.4 cluster (manifests, deploy script, e2e through the Ingress)" bash scripts/test-cluster.sh
run "Dagger module on a real engine v0.21.8"          bash scripts/test-dagger.sh
echo; echo "all suites passed"
echo "suites: $passed passed, 0 failed"

#!/usr/bin/env bash
# The pipeline suite (docs/contracts.md §1): rendered Kubernetes manifests, compose, nginx, workflows,
# the Dagger module's logic and its strict type-check. Installs what it needs idempotently:
#   - .venv with the backend (scripts/setup-python.sh): the tests ask `.venv/bin/mydocs` for its settings
#     and its parser.yml validator instead of keeping a copy;
#   - the root node_modules (npm ci) when missing or out of step with package.json / the lock;
#   - .cache/k8s-validate: kubernetes-validate with the strict Kubernetes JSON schemas, hash-pinned in
#     test/pipeline/k8s/requirements-validate.lock, for offline schema validation.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { echo "--- test-pipeline: $*"; }

step "python backend (.venv)"
bash scripts/setup-python.sh

step "root node_modules"
if [[ ! -d node_modules ]] || ! npm ls --depth=0 >/dev/null 2>&1; then
  # the lock serialises with engineers adding root devDependencies on a shared machine
  flock /tmp/npm-root.lock npm ci --no-audit --no-fund
else
  echo "node_modules up to date"
fi

step "kubernetes-validate (.cache/k8s-validate)"
KV=.cache/k8s-validate
KV_LOCK=test/pipeline/k8s/requirements-validate.lock
want="$(sha256sum "$KV_LOCK" | cut -d' ' -f1)"
if [[ -x "$KV/bin/kubernetes-validate" && "$(cat "$KV/.lock.sha256" 2>/dev/null)" == "$want" ]]; then
  echo "validator up to date"
else
  rm -rf "$KV"
  "${PYTHON:-python3.11}" -m venv "$KV"
  "$KV/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes --only-binary=:all: -r "$KV_LOCK"
  echo "$want" > "$KV/.lock.sha256"
fi

command -v kubectl >/dev/null || { echo "test-pipeline: kubectl (with kustomize) is required" >&2; exit 1; }

if [[ -f .dagger/tsconfig.typecheck.json ]]; then
  step "type-check the Dagger module (strict tsc)"
  npm run --silent typecheck:dagger
fi

step "type-check the Kubernetes and image tests (strict tsc)"
npx tsc -p test/pipeline/k8s/tsconfig.json
npx tsc -p test/pipeline/images/tsconfig.json

step "vitest (test/pipeline)"
npx vitest run --root test/pipeline

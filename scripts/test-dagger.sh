#!/usr/bin/env bash
# The Dagger module on a real engine (test/dagger, vitest): every function's real body run through
# connection() of @dagger.io/dagger against the engine v0.21.8 that scripts/dagger-engine.sh builds and
# starts (with its stand-in registry), plus the SDK's own introspection of .dagger/src. An engine that
# was not running before is stopped again at the end.
# Usage: bash scripts/test-dagger.sh [vitest args...]   (as root: the engine script needs Docker)
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "test-dagger: $*" >&2; }
[[ -d node_modules/@dagger.io/dagger ]] || npm ci --no-audit --no-fund --loglevel=error
[[ -d test/e2e/node_modules ]] || (cd test/e2e && npm ci --no-audit --no-fund --loglevel=error)

started=0
bash scripts/dagger-engine.sh env >/dev/null 2>&1 || started=1
stop() { if [[ $started == 1 ]]; then bash scripts/dagger-engine.sh down; fi; }
trap stop EXIT
t0=$SECONDS
eval "$(bash scripts/dagger-engine.sh up)"
log "engine ready in $((SECONDS - t0)) s ($_EXPERIMENTAL_DAGGER_RUNNER_HOST)"

npx tsc -p test/dagger/tsconfig.json
npx vitest run --root test/dagger "$@"

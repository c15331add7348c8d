#!/usr/bin/env bash
# Dagger engine benchmark (issue 9); prints one table, all figures from this one run:
#   - engine start-up: `scripts/dagger-engine.sh up` with everything built, from no engine container to a
#     session answering, with its state volume kept (warm) and emptied (cold)
#   - buildBackend through the engine (the module's function, test/bench/dagger_build.ts) beside
#     `docker build` of the same Dockerfile on the same bases (BuildKit, the -noca base + the CA secret):
#       cold    = engine with an empty state volume / docker with its build cache pruned (pip downloads included)
#       rebuild = after a one-line change in src/mydocs (a copy of the repository)
#     and their ratios (engine / docker)
# It restarts the engine (and empties its state volume once): do not run it beside test-dagger.sh.
# Needs what scripts/dagger-engine.sh needs, plus test/e2e's node_modules (tsx). Runtime: ~5 min.
# Usage: bash test/bench/dagger_bench.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
log() { echo "bench: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
[[ -x test/e2e/node_modules/.bin/tsx ]] || (cd test/e2e && npm ci --no-audit --no-fund --loglevel=error)
TSX="$ROOT/test/e2e/node_modules/.bin/tsx"
BASE="mydocs-local/python:3.13-trixie-noca"
CA="${MYDOCS_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
docker image inspect "$BASE" >/dev/null 2>&1 || die "$BASE missing: bash scripts/bootstrap-base-images.sh"
bash scripts/dagger-engine.sh build

now() { date +%s.%N; }
secs() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$2"; }
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}x')" "$1" "$2"; }
build_engine() { # [source dir] -> seconds (the function's own timing)
  SOURCE="${1:-$ROOT}" "$TSX" --tsconfig test/dagger/tsconfig.json test/bench/dagger_build.ts | sed -n 's/^seconds=//p'
}
start_engine() { # -> seconds until a session answers (the environment is exported below, after the first up)
  local t0; t0=$(now)
  bash scripts/dagger-engine.sh up >/dev/null 2>&1
  env $(bash scripts/dagger-engine.sh env | sed 's/^export //') node --input-type=module \
    -e 'import { connection, dag } from "@dagger.io/dagger"; await connection(async () => { await dag.version() })' >/dev/null
  secs "$t0" "$(now)"
}

# a copy of the repository with a one-line change in the backend's source
copy="$(mktemp -d)"; trap 'rm -rf "$copy"' EXIT
git ls-files -z | tar --null -T - -cf - | tar -C "$copy" -xf -
echo "# bench: one-line change $(date +%s)" >> "$copy/src/mydocs/__init__.py"

log "engine start-up, warm state"
bash scripts/dagger-engine.sh down >/dev/null 2>&1
start_warm=$(start_engine)
log "engine start-up, empty state volume"
bash scripts/dagger-engine.sh down >/dev/null 2>&1
docker volume rm mydocs-dagger-state >/dev/null 2>&1 || true
start_cold=$(start_engine)

eval "$(bash scripts/dagger-engine.sh env)"
log "buildBackend through the engine: cold (empty state), then after a one-line change"
engine_cold=$(build_engine)
engine_rebuild=$(build_engine "$copy")

log "docker build of the same Dockerfile: cold (build cache pruned), then after the same change"
docker builder prune -af >/dev/null
t0=$(now)
docker build -q --no-cache -f Dockerfile.backend --build-arg PYTHON_IMAGE="$BASE" --secret id=ca_bundle,src="$CA" \
  -t mydocs-bench-backend:cold . >/dev/null
docker_cold=$(secs "$t0" "$(now)")
t0=$(now)
docker build -q -f "$copy/Dockerfile.backend" --build-arg PYTHON_IMAGE="$BASE" --secret id=ca_bundle,src="$CA" \
  -t mydocs-bench-backend:rebuild "$copy" >/dev/null
docker_rebuild=$(secs "$t0" "$(now)")
docker image rm mydocs-bench-backend:cold mydocs-bench-backend:rebuild >/dev/null 2>&1 || true

cat <<EOF

| figure | engine v0.21.8 (buildBackend) | docker build (BuildKit) | engine / docker |
|---|---|---|---|
| engine start-up to a session answering, warm state | ${start_warm} s | – | – |
| engine start-up, empty state volume | ${start_cold} s | – | – |
| backend image, cold | ${engine_cold} s | ${docker_cold} s | $(ratio "$engine_cold" "$docker_cold") |
| backend image, after a one-line source change | ${engine_rebuild} s | ${docker_rebuild} s | $(ratio "$engine_rebuild" "$docker_rebuild") |
| rebuild / cold | $(ratio "$engine_rebuild" "$engine_cold") | $(ratio "$docker_rebuild" "$docker_cold") | |
EOF

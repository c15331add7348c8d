#!/usr/bin/env bash
# Images / Compose benchmark (issue 3 "Benchmark"); prints one table of figures against their targets:
#   - image sizes and what each adds over its base      (targets: backend <= base + 80 MiB, UI <= base + 5 MiB)
#   - cold build (--no-cache) vs rebuild after a one-line source change, both images (target <= 0.2x cold)
#   - seconds from `compose up` to all healthy and /health/ready 200 (target <= 15 s, images built)
#   - upload MB/s of a 100 MiB file through nginx vs straight to the backend (target >= 0.7x)
#   - each container's peak memory (docker stats, sampled) while 4 clients upload 100 MiB at once
# Uses the locally bootstrapped bases (scripts/bootstrap-base-images.sh) and the local profile, on a
# throwaway Compose project in a temp dir; tears it down at the end. Needs: Docker engine, docker-compose
# or `docker compose`, curl, python3. Runtime: a few minutes (the cold builds dominate).
# Usage: bash test/bench/images_bench.sh [--skip-cold]   (--skip-cold: no --no-cache builds)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
SKIP_COLD=0
[[ "${1:-}" == "--skip-cold" ]] && SKIP_COLD=1

log() { echo "bench: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
for c in docker curl python3 git; do command -v "$c" >/dev/null || die "'$c' is required"; done
docker info >/dev/null 2>&1 || die "no Docker engine answers"
DOCKER_BUILD_CLI=""
for d in docker /usr/bin/docker; do
  command -v "$d" >/dev/null || continue
  if "$d" buildx version >/dev/null 2>&1; then DOCKER_BUILD_CLI="$d"; break; fi
  v="$("$d" version --format '{{.Client.Version}}' 2>/dev/null || true)"
  if [[ "${v%%.*}" =~ ^[0-9]+$ && "${v%%.*}" -lt 23 ]]; then DOCKER_BUILD_CLI="$d"; break; fi
done
[[ -n "$DOCKER_BUILD_CLI" ]] || die "no docker CLI with BuildKit"
if docker compose version >/dev/null 2>&1; then COMPOSE=(docker compose); else COMPOSE=(docker-compose); fi

WORK="$(mktemp -d /tmp/mydocs-bench.XXXXXX)"
PROJECT="mydocs-bench-$$"
compose() { "${COMPOSE[@]}" -p "$PROJECT" --env-file "$WORK/compose.env" -f "$ROOT/docker-compose.yml" --profile local "$@"; }
cleanup() {
  [[ -f "$WORK/compose.env" ]] && compose down -v --remove-orphans >/dev/null 2>&1 || true
  [[ -n "${STATS_PID:-}" ]] && kill "$STATS_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bash scripts/bootstrap-base-images.sh --env-file "$WORK/bases.env" >/dev/null
# shellcheck disable=SC1091
source "$WORK/bases.env"
B=mydocs-backend:bench U=mydocs-ui:bench
CTX="$WORK/context"; mkdir -p "$CTX"
git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$CTX" 2>/dev/null || true

build() { # dockerfile tag extra-args... -> seconds (stdout)
  local df="$1" tag="$2"; shift 2
  local t0; t0=$(date +%s.%N)
  DOCKER_BUILDKIT=1 "$DOCKER_BUILD_CLI" build -q -f "$CTX/$df" -t "$tag" "$@" "$CTX" >"$WORK/build.log" 2>&1 \
    || { tail -n 40 "$WORK/build.log" >&2; die "build of $df failed"; }
  python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$t0" "$(date +%s.%N)"
}
BARGS=(--build-arg "PYTHON_IMAGE=$PYTHON_IMAGE")
UARGS=(--build-arg "NODE_IMAGE=$NODE_IMAGE" --build-arg "NGINX_IMAGE=$NGINX_IMAGE")

# ------------------------------------------------------------------ builds
if [[ $SKIP_COLD == 0 ]]; then
  log "cold builds (--no-cache: every layer, downloads included; the base images stay)"
  cold_b=$(build Dockerfile.backend "$B" --no-cache "${BARGS[@]}")
  cold_u=$(build Dockerfile.ui "$U" --no-cache "${UARGS[@]}")
else
  cold_b=$(build Dockerfile.backend "$B" "${BARGS[@]}"); cold_u=$(build Dockerfile.ui "$U" "${UARGS[@]}")
  cold_b="n/a"; cold_u="n/a"
fi
log "one-line source change, rebuild"
echo "# bench: one-line change $(date +%s%N)" >> "$CTX/src/mydocs/__init__.py"
echo "// bench: one-line change $(date +%s%N)" >> "$CTX/mydocs-ui/src/main.ts"
warm_b=$(build Dockerfile.backend "$B" "${BARGS[@]}")
warm_u=$(build Dockerfile.ui "$U" "${UARGS[@]}")

size() { docker image inspect -f '{{.Size}}' "$1"; }
mib() { python3 -c "import sys; print(f'{int(sys.argv[1]) / 2**20:.1f}')" "$1"; }
sb=$(size "$B"); sbb=$(size "$PYTHON_IMAGE"); su=$(size "$U"); sub=$(size "$NGINX_IMAGE")

# ------------------------------------------------------------------ compose up -> healthy
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$WORK/data" "$WORK/config"
cat > "$WORK/compose.env" <<EOF
MONGO_IMAGE=$MONGO_IMAGE
AZURITE_IMAGE=$AZURITE_IMAGE
BACKEND_IMAGE=$B
UI_IMAGE=$U
UI_PORT=$PORT
UI_BIND=127.0.0.1
BACKEND_PORT=$BPORT
MYDOCS_DATA_DIR=$WORK/data
MYDOCS_CONFIG_DIR=$WORK/config
MYDOCS_ENV_FILE=$WORK/backend.env
EOF
printf 'MONGO_URL=mongodb://db:27017\nMONGO_DB_NAME=mydocs_bench\nMYDOCS_STORAGE_BACKEND=local\n' > "$WORK/backend.env"
log "compose up -> healthy"
t0=$(date +%s.%N)
compose up -d --no-build >"$WORK/up.log" 2>&1 || { cat "$WORK/up.log" >&2; die "compose up failed"; }
for _ in $(seq 600); do
  st="$(for id in $(compose ps -q); do docker inspect -f '{{.State.Status}}/{{if .State.Health}}{{.State.Health.Status}}{{else}}-{{end}}' "$id"; done | sort | tr '\n' ' ')"
  if [[ "$st" != *starting* && "$st" != *unhealthy* && "$st" != *created* && "$st" != *restarting* ]] \
     && curl -fsS -o /dev/null "http://127.0.0.1:$PORT/health/ready" 2>/dev/null; then break; fi
  sleep 0.2
done
up_s=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$t0" "$(date +%s.%N)")
curl -fsS -o /dev/null "http://127.0.0.1:$PORT/health/ready" || die "stack not ready"

# ------------------------------------------------------------------ upload throughput
upload() { # url file -> MB/s (stdout); deletes the document afterwards
  local out id resp="$2.resp.json"
  out="$(curl -sS -o "$resp" -w '%{http_code} %{time_total}' -F "files=@$2;type=application/octet-stream" "$1/api/v1/documents/upload")"
  [[ "${out%% *}" == 201 ]] || die "upload to $1: HTTP ${out%% *} $(head -c 300 "$resp")"
  id="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["document"]["id"])' "$resp")"
  curl -fsS -o /dev/null -X DELETE "$1/api/v1/documents/$id"
  python3 -c "import os,sys; print(f'{os.path.getsize(sys.argv[1]) / 1e6 / float(sys.argv[2]):.0f}')" "$2" "${out#* }"
}
log "upload throughput (100 MiB, 3 runs each, best)"
for i in 1 2 3 4; do head -c $((100 * 1024 * 1024)) /dev/urandom > "$WORK/f$i.bin"; done
best() { sort -n | tail -1; }
via_nginx=$(for i in 1 2 3; do upload "http://127.0.0.1:$PORT" "$WORK/f$i.bin"; done | best)
direct=$(for i in 1 2 3; do upload "http://127.0.0.1:$BPORT" "$WORK/f$i.bin"; done | best)

# ------------------------------------------------------------------ peak memory, 4 concurrent uploads
log "peak memory while 4 clients upload 100 MiB through nginx"
: > "$WORK/stats.txt"
( while :; do docker stats --no-stream --format '{{.Name}} {{.MemUsage}}' $(compose ps -q) >> "$WORK/stats.txt" 2>/dev/null; done ) &
STATS_PID=$!
sleep 1
for i in 1 2 3 4; do upload "http://127.0.0.1:$PORT" "$WORK/f$i.bin" > "$WORK/par$i.txt" & done
wait $(jobs -p | grep -v "^$STATS_PID\$") 2>/dev/null || true
sleep 1; kill "$STATS_PID" 2>/dev/null || true; wait "$STATS_PID" 2>/dev/null || true; STATS_PID=""
for i in 1 2 3 4; do [[ -s "$WORK/par$i.txt" ]] || die "concurrent upload $i failed"; done
peaks="$(python3 - "$WORK/stats.txt" <<'EOF'
import re, sys
units = {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "kB": 1e3, "MB": 1e6, "GB": 1e9}
peak = {}
for line in open(sys.argv[1]):
    m = re.match(r"(\S+) ([\d.]+)(\w+) /", line)
    if not m: continue
    name = re.sub(r"^mydocs-bench-\d+[-_]", "", m.group(1)).rsplit("_1", 1)[0].rsplit("-1", 1)[0]
    v = float(m.group(2)) * units.get(m.group(3), 1) / 2**20
    peak[name] = max(peak.get(name, 0), v)
print(", ".join(f"{k} {v:.0f} MiB" for k, v in sorted(peak.items())))
EOF
)"

# ------------------------------------------------------------------ report
ratio() { python3 -c "import sys; a,b=sys.argv[1:]; print('n/a' if 'n/a' in (a,b) else f'{float(a)/float(b):.2f}x')" "$1" "$2"; }
cat <<EOF

MyDocs images / Compose benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, bases: $PYTHON_IMAGE, $NGINX_IMAGE)
| figure | backend | ui | target |
|---|---|---|---|
| image size (MiB) | $(mib "$sb") | $(mib "$su") | |
| base size (MiB) | $(mib "$sbb") | $(mib "$sub") | |
| added over base (MiB) | $(mib $((sb - sbb))) | $(mib $((su - sub))) | <= 80 / <= 5 |
| cold build, --no-cache (s) | $cold_b | $cold_u | |
| rebuild after a one-line source change (s) | $warm_b | $warm_u | |
| rebuild / cold | $(ratio "$warm_b" "$cold_b") | $(ratio "$warm_u" "$cold_u") | <= 0.2x |

| figure | value | target |
|---|---|---|
| compose up -> all healthy + ready (s) | $up_s | <= 15 |
| upload 100 MiB via nginx (MB/s, best of 3) | $via_nginx | |
| upload 100 MiB straight to the backend (MB/s, best of 3) | $direct | |
| nginx / direct | $(ratio "$via_nginx" "$direct") | >= 0.7x |
| peak memory, 4 concurrent 100 MiB uploads via nginx | $peaks | |
EOF

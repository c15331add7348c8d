#!/usr/bin/env bash
# Images / Compose benchmark (issues 3 and 10); prints one table of figures against their targets:
#   - image sizes and what each adds over its base      (targets: backend <= base + 80 MiB, UI <= base + 5 MiB)
#   - both images built by BuildKit (docker build = buildx, on the -noca bases, the CA as the ca_bundle
#     build secret) beside the classic builder (DOCKER_BUILDKIT=0, the same Dockerfiles with only their
#     RUN --mount flags removed, on the CA-carrying bases), in the same run:
#       cold = --no-cache; for BuildKit also with its pip/npm/compile cache mounts emptied first (downloads included,
#       as the classic builder always does); rebuild after a one-line source change (target <= 0.2x cold)
#   - where the UI's time goes, cold (empty cache mounts) beside the median rebuild: BuildKit's own step
#     timings (docker build --progress=rawjson) - client start-up, context, npm ci, vite build (container
#     start, vite itself, exit and snapshot), the nginx stage, the COPY of dist, the export
#   - what the UI rebuild would cost if the image still type-checked (npm run build = vue-tsc + vite build)
#   - seconds from `compose up` to all healthy and /health/ready 200 (target <= 15 s, images built)
#   - upload MB/s of a 100 MiB file through nginx vs straight to the backend (target >= 0.7x)
#   - each container's peak memory (docker stats, sampled) while 4 clients upload 100 MiB at once
# Uses the locally bootstrapped bases (scripts/bootstrap-base-images.sh) and the local profile, on a
# throwaway Compose project in a temp dir; tears it down at the end. Emptying the cache mounts prunes
# only the build-cache records of this repository's three cache mounts (pip, npm, Node's compile cache;
# found by their descriptions, which only these Dockerfiles' commands produce). Needs: Docker engine with BuildKit, docker compose
# v2 + buildx (scripts/install-docker-plugins.sh), curl, python3, git. Runtime: ~6 min (cold builds).
# Usage: bash test/bench/images_bench.sh [--skip-cold]   (--skip-cold: no cold builds, no classic builder)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
SKIP_COLD=0
case "${1:-}" in
  --skip-cold) SKIP_COLD=1 ;;
  "") ;;
  *) echo "usage: bash test/bench/images_bench.sh [--skip-cold]" >&2; exit 2 ;;
esac

log() { echo "bench: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
for c in docker curl python3 git; do command -v "$c" >/dev/null || die "'$c' is required"; done
bash scripts/install-docker-plugins.sh --check || exit 1   # one line naming what to install
COMPOSE=(docker compose)
CA_BUNDLE="${MYDOCS_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
[[ -s "$CA_BUNDLE" ]] || die "CA bundle $CA_BUNDLE is missing or empty (set MYDOCS_CA_BUNDLE)"

WORK="$(mktemp -d /tmp/mydocs-bench.XXXXXX)"
PROJECT="mydocs-bench-$$"
compose() { "${COMPOSE[@]}" -p "$PROJECT" --env-file "$WORK/compose.env" -f "$ROOT/docker-compose.yml" --profile local "$@"; }
cleanup() {
  [[ -f "$WORK/compose.env" ]] && compose down -v --remove-orphans >/dev/null 2>&1 || true
  [[ -n "${STATS_PID:-}" ]] && kill "$STATS_PID" 2>/dev/null || true
  docker rmi mydocs-backend:bench-classic mydocs-ui:bench-classic mydocs-ui:bench-typecheck >/dev/null 2>&1 || true
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
# the classic builder's copies: the same Dockerfiles without their RUN --mount flags (nothing else changes)
for df in Dockerfile.backend Dockerfile.ui; do
  python3 - "$CTX/$df" "$CTX/$df.classic" <<'EOF'
import re, sys
t = open(sys.argv[1]).read()
t = re.sub(r"--mount=\S+[ \t]*\\\n[ \t]*", "", t)
t = re.sub(r"--mount=\S+[ \t]+", "", t)
assert not any("--mount" in l for l in t.splitlines() if not l.lstrip().startswith("#")), "a --mount flag was left"
open(sys.argv[2], "w").write(t)
EOF
done
# the UI as it was built before issue 10: npm run build (vue-tsc --build && vite build) inside the image
sed '/^[[:space:]]*#/!s# ./node_modules/.bin/vite build && # npm run build \&\& #' "$CTX/Dockerfile.ui" > "$CTX/Dockerfile.ui.typecheck"
grep -q "^[^#]* npm run build && " "$CTX/Dockerfile.ui.typecheck" || die "Dockerfile.ui has no './node_modules/.bin/vite build' step to compare"

elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$(date +%s.%N)"; }
# BuildKit's progress as JSON (rawjson): the step timings of each build, for the breakdown below
steps_py() { python3 "$WORK/steps.py" "$@"; }
cat > "$WORK/steps.py" <<'EOF'
# steps.py LOG T0 T1 -> JSON of the parts of one BuildKit build (seconds); steps.py --errors LOG
import base64, calendar, json, sys, time
def utc(s):
    s = s.rstrip("Z"); base, _, frac = s.partition(".")
    return calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S")) + float("0." + (frac or "0"))
def read(path):
    vs, logs, other = {}, {}, []
    for line in open(path, errors="replace"):
        if not line.startswith("{"):
            other.append(line.rstrip("\n")); continue
        d = json.loads(line)
        for v in d.get("vertexes") or []:
            e = vs.setdefault(v["digest"], {"name": v.get("name", "")})
            for k in ("started", "completed"):
                if v.get(k): e[k] = utc(v[k])
            e["cached"] = e.get("cached", False) or v.get("cached", False)
            if v.get("error"): e["error"] = v["error"]
        for l in d.get("logs") or []:
            logs.setdefault(l["vertex"], []).append((utc(l["timestamp"]), base64.b64decode(l.get("data") or "").decode(errors="replace")))
    return vs, logs, other
if sys.argv[1] == "--errors":
    vs, logs, other = read(sys.argv[2])
    text = "".join(t for v in logs.values() for _, t in v).splitlines()
    print("\n".join(text[-30:] + [f"{e['name']}: {e['error']}" for e in vs.values() if e.get("error")] + other[-10:]))
    sys.exit(0)
vs, logs, _ = read(sys.argv[1]); t0, t1 = float(sys.argv[2]), float(sys.argv[3])
ran = [(d, e) for d, e in vs.items() if "started" in e and not e["cached"]]
part = {}
def add(k, v): part[k] = part.get(k, 0.0) + v
for d, e in ran:
    n, dur = e["name"], e.get("completed", e["started"]) - e["started"]
    if n.startswith("[internal]"): add("internal", dur)
    elif "npm ci" in n: add("npm_ci", dur)
    elif "vite build" in n or "npm run build" in n:
        add("vite_step", dur)
        ts = [t for t, _ in logs.get(d, [])]
        if ts:
            add("vite_start", min(ts) - e["started"]); add("vite_run", max(ts) - min(ts)); add("vite_exit", e["completed"] - max(ts))
    elif "COPY --from=builder" in n: add("copy_dist", dur)
    elif n.startswith("[runtime"): add("nginx_stage", dur)
    elif n.startswith("[builder") and "COPY" in n: add("copy_src", dur)
    elif n.startswith("exporting"): add("export", dur)
    else: add("other", dur)
starts = [e["started"] for _, e in ran] or [t0]
ends = [e.get("completed", e["started"]) for _, e in ran] or [t1]
part["client_start"] = min(starts) - t0
part["client_end"] = t1 - max(ends)
part["total"] = t1 - t0
print(json.dumps(part))
EOF
bk() { # dockerfile tag extra-args... -> seconds (stdout); BuildKit: docker build (buildx), secret given;
  # leaves BuildKit's JSON progress in $WORK/build.log and "t0 t1" in $WORK/build.times
  local df="$1" tag="$2"; shift 2
  local t0; t0=$(date +%s.%N)
  docker build --progress=rawjson --secret "id=ca_bundle,src=$CA_BUNDLE" -f "$CTX/$df" -t "$tag" "$@" "$CTX" >/dev/null 2>"$WORK/build.log" \
    || { steps_py --errors "$WORK/build.log" >&2; die "BuildKit build of $df failed"; }
  echo "$t0 $(date +%s.%N)" > "$WORK/build.times"
  elapsed "$t0"
}
keep_steps() { # name: the parts of the last BuildKit build -> $WORK/steps-<name>.json
  local t0 t1
  read -r t0 t1 < "$WORK/build.times"
  steps_py "$WORK/build.log" "$t0" "$t1" > "$WORK/steps-$1.json"
}
classic() { # dockerfile tag extra-args... -> seconds (stdout); the classic builder (no secrets: CA bases)
  local df="$1" tag="$2"; shift 2
  local t0; t0=$(date +%s.%N)
  DOCKER_BUILDKIT=0 docker build -q -f "$CTX/$df" -t "$tag" "$@" "$CTX" >"$WORK/build.log" 2>&1 \
    || { tail -n 40 "$WORK/build.log" >&2; die "classic build of $df failed"; }
  elapsed "$t0"
}
BARGS=(--build-arg "PYTHON_IMAGE=$PYTHON_IMAGE_NOCA")
UARGS=(--build-arg "NODE_IMAGE=$NODE_IMAGE_NOCA" --build-arg "NGINX_IMAGE=$NGINX_IMAGE")
CBARGS=(--build-arg "PYTHON_IMAGE=$PYTHON_IMAGE")
CUARGS=(--build-arg "NODE_IMAGE=$NODE_IMAGE" --build-arg "NGINX_IMAGE=$NGINX_IMAGE")

# BuildKit's records of this repository's three cache mounts (pip, npm, Node's compile cache of the
# UI's vite step): their descriptions name the mount target and the command's start, which only these
# Dockerfiles have. Pruned one by one by id (engine 20.10's prune does not filter on descriptions), so
# no other build cache is touched.
MOUNT_RE='^cached mount /root/(([.]cache/pip|[.]npm) from exec /bin/sh -c if [[] -s /run/secrets/ca_bundle|[.]cache/node-compile-cache from exec /bin/sh -c NODE_COMPILE_CACHE=/root/[.]cache/node-compile-cache )'
cache_ids() {
  docker buildx du --verbose --filter type=exec.cachemount 2>/dev/null | awk -v re="$MOUNT_RE" '
    /^ID:/ { id = $2 } /^Description:/ { d = $0; sub(/^Description:[ \t]*/, "", d); if (d ~ re) print id }'
}
empty_cache_mounts() {
  local ids id left
  ids="$(cache_ids)"
  for id in $ids; do docker builder prune -af --filter "id=$id" >/dev/null; done
  left="$(cache_ids)"
  [[ -z "$left" ]] || die "the pip/npm/compile cache mounts could not be emptied (still there: $left)"
  log "emptied the pip/npm/compile cache mounts ($(wc -w <<<"$ids") records)"
}

# ------------------------------------------------------------------ builds
na="n/a"
cold0_b=$na cold0_u=$na cold_b=$na cold_u=$na ccold_b=$na ccold_u=$na cwarm_b=$na cwarm_u=$na
if [[ $SKIP_COLD == 0 ]]; then
  log "BuildKit cold builds: --no-cache with the pip/npm/compile cache mounts emptied, then --no-cache again"
  empty_cache_mounts
  cold0_b=$(bk Dockerfile.backend "$B" --no-cache "${BARGS[@]}")
  cold0_u=$(bk Dockerfile.ui "$U" --no-cache "${UARGS[@]}"); keep_steps ui-cold0
  cold_b=$(bk Dockerfile.backend "$B" --no-cache "${BARGS[@]}")
  cold_u=$(bk Dockerfile.ui "$U" --no-cache "${UARGS[@]}")
  log "classic builder cold builds (--no-cache)"
  ccold_b=$(classic Dockerfile.backend.classic mydocs-backend:bench-classic --no-cache "${CBARGS[@]}")
  ccold_u=$(classic Dockerfile.ui.classic mydocs-ui:bench-classic --no-cache "${CUARGS[@]}")
else
  bk Dockerfile.backend "$B" "${BARGS[@]}" >/dev/null; bk Dockerfile.ui "$U" "${UARGS[@]}" >/dev/null
fi
log "one-line source change, rebuild (3 times each; the median is reported)"
# backend: a comment in the package (shipped as is); UI: a statement that reaches the bundle (a comment
# would be stripped by vite and the runtime layer reused)
change_b() { echo "# bench: one-line change $(date +%s%N)" >> "$CTX/src/mydocs/__init__.py"; }
change_u() { echo "document.documentElement.dataset.bench = \"$(date +%s%N)\"" >> "$CTX/mydocs-ui/src/main.ts"; }
median() { python3 -c "import statistics, sys; v = sorted(float(x) for x in sys.argv[1:]); print(f'{statistics.median(v):.1f}')" "$@"; }
spread() { python3 -c "import sys; v = sorted(float(x) for x in sys.argv[1:]); print(f'{v[0]:.1f}-{v[-1]:.1f}')" "$@"; }
wb=() wu=()
for _ in 1 2 3; do
  change_b; wb+=("$(bk Dockerfile.backend "$B" "${BARGS[@]}")")
  change_u; wu+=("$(bk Dockerfile.ui "$U" "${UARGS[@]}")"); keep_steps "ui-rebuild-${#wu[@]}"
done
warm_b=$(median "${wb[@]}"); warm_u=$(median "${wu[@]}")
warm_b_spread=$(spread "${wb[@]}"); warm_u_spread=$(spread "${wu[@]}")
# the UI rebuild whose time is the median: its parts are reported beside the cold build's
median_u_run=$(python3 -c "import sys; v = [float(x) for x in sys.argv[1:]]; print(sorted(range(len(v)), key=v.__getitem__)[len(v) // 2] + 1)" "${wu[@]}")
# the same change rebuilt by an image that type-checks (the npm ci layer is shared: only the build step differs)
bk Dockerfile.ui.typecheck mydocs-ui:bench-typecheck "${UARGS[@]}" >/dev/null
change_u
tc_u=$(bk Dockerfile.ui.typecheck mydocs-ui:bench-typecheck "${UARGS[@]}")
if [[ $SKIP_COLD == 0 ]]; then
  change_b; change_u
  cwarm_b=$(classic Dockerfile.backend.classic mydocs-backend:bench-classic "${CBARGS[@]}")
  cwarm_u=$(classic Dockerfile.ui.classic mydocs-ui:bench-classic "${CUARGS[@]}")
fi

size() { docker image inspect -f '{{.Size}}' "$1"; }
mib() { python3 -c "import sys; print(f'{int(sys.argv[1]) / 2**20:.1f}')" "$1"; }
sb=$(size "$B"); sbb=$(size "$PYTHON_IMAGE_NOCA"); su=$(size "$U"); sub=$(size "$NGINX_IMAGE")

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
ui_parts="$(python3 - "$WORK/steps-ui-cold0.json" "$WORK/steps-ui-rebuild-$median_u_run.json" <<'PY'
import json, os, sys
cols = [json.load(open(p)) if os.path.exists(p) else {} for p in sys.argv[1:]]
rows = [("docker build start -> first step (CLI, buildx, session)", "client_start"),
        ("[internal] steps: Dockerfile, .dockerignore, context, base metadata", "internal"),
        ("npm ci (npm cache mount)", "npm_ci"),
        ("COPY package files / sources", "copy_src"),
        ("vite build step", "vite_step"),
        ("- container start -> vite's first line (node, vite and its config loaded)", "vite_start"),
        ("- vite's first line -> its last (transform, render, minify, write)", "vite_run"),
        ("- vite's last line -> step done (exit, snapshot)", "vite_exit"),
        ("nginx stage (rm, 2 COPY, nginx -t; beside the Node stage)", "nginx_stage"),
        ("COPY dist into the nginx stage", "copy_dist"),
        ("exporting to image", "export"),
        ("last step -> docker build returns", "client_end"),
        ("total (wall)", "total")]
print("| part (s) | cold, empty mounts | rebuild (median run) |")
print("|---|---|---|")
def f(c, k): return f"{c[k]:.2f}" if k in c else ("cached" if c else "n/a")
for label, k in rows: print(f"| {label} | {f(cols[0], k)} | {f(cols[1], k)} |")
PY
)"
ratio() { python3 -c "import sys; a,b=sys.argv[1:]; print('n/a' if 'n/a' in (a,b) else f'{float(a)/float(b):.2f}x')" "$1" "$2"; }
cat <<EOF

MyDocs images / Compose benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(docker compose version --short) / buildx $(docker buildx version | awk '{print $2}') / engine $(docker version --format '{{.Server.Version}}'); bases: $PYTHON_IMAGE_NOCA, $NODE_IMAGE_NOCA, $NGINX_IMAGE)
| figure | backend | ui | target |
|---|---|---|---|
| image size (MiB) | $(mib "$sb") | $(mib "$su") | |
| base size (MiB) | $(mib "$sbb") | $(mib "$sub") | |
| added over base (MiB) | $(mib $((sb - sbb))) | $(mib $((su - sub))) | <= 80 / <= 5 |
| BuildKit: cold, --no-cache + empty pip/npm/compile cache mounts (s) | $cold0_b | $cold0_u | |
| BuildKit: cold, --no-cache, cache mounts warm (s) | $cold_b | $cold_u | |
| BuildKit: rebuild after a one-line source change (s; median of 3, range) | $warm_b ($warm_b_spread) | $warm_u ($warm_u_spread) | |
| BuildKit: rebuild / cold with empty mounts | $(ratio "$warm_b" "$cold0_b") | $(ratio "$warm_u" "$cold0_u") | <= 0.2x |
| BuildKit: rebuild / cold with warm mounts | $(ratio "$warm_b" "$cold_b") | $(ratio "$warm_u" "$cold_u") | <= 0.2x |
| UI rebuild if the image type-checked (npm run build: vue-tsc + vite) (s) | | $tc_u | |
| classic builder: cold, --no-cache (s) | $ccold_b | $ccold_u | |
| classic builder: rebuild after a one-line source change (s) | $cwarm_b | $cwarm_u | |
| classic builder: rebuild / cold | $(ratio "$cwarm_b" "$ccold_b") | $(ratio "$cwarm_u" "$ccold_u") | |
| BuildKit cold (empty mounts) / classic cold | $(ratio "$cold0_b" "$ccold_b") | $(ratio "$cold0_u" "$ccold_u") | |

Where the UI's time goes (BuildKit's step timings; the two stages run side by side, so parts overlap):
$ui_parts

| figure | value | target |
|---|---|---|
| compose up -> all healthy + ready (s) | $up_s | <= 15 |
| upload 100 MiB via nginx (MB/s, best of 3) | $via_nginx | |
| upload 100 MiB straight to the backend (MB/s, best of 3) | $direct | |
| nginx / direct | $(ratio "$via_nginx" "$direct") | >= 0.7x |
| peak memory, 4 concurrent 100 MiB uploads via nginx | $peaks | |
EOF

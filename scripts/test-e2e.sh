#!/usr/bin/env bash
# End-to-end on Docker Compose (docs/images-and-compose.md):
#   1. bootstraps the base images from Debian (scripts/bootstrap-base-images.sh; seconds when present),
#   2. builds both images (BuildKit) from a copy of the working tree that carries canaries in .env,
#      data/, a Kubernetes secret.yml, node_modules and .git; proves no canary is in any layer
#      (docker save + search, with a positive control that the search finds a planted one),
#   3. brings the stack up with the local profile (FerretDB + Azurite from the local bases) on a free
#      host port, waits for healthy, runs the e2e suite (test/e2e) against nginx,
#      then runs the k3d overlay's pods with those images under their security contexts,
#   4. persistence: seeds a document, `down` + `up`, verifies record and bytes,
#   5. the API suite again with MYDOCS_STORAGE_BACKEND=azure_blob (Azurite), then with auth on against
#      a real OIDC key server (401 without a token, everything else with a token it signed),
#   6. tears everything down (always, on success or failure).
# Needs: a running Docker engine, docker-compose (1.29) or `docker compose`, debootstrap, npm, Node >= 20
# (.ci/run provisions all of it). Exit status: 0 all passed, 1 a check failed.
# Environment: E2E_PORT (default: 8080 when free, else any free port), E2E_KEEP=1 (leave the stack up),
# E2E_ARTIFACTS (default test/e2e/artifacts), E2E_SKIP_BROWSER (passed to the suite).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

log() { echo "test-e2e: $*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# ------------------------------------------------------------------ tools
docker info >/dev/null 2>&1 || die "no Docker engine answers (start dockerd; .ci/run does)"
# A docker CLI that builds with BuildKit: one with the buildx plugin, or a client older than 23 whose
# classic `docker build` still has BuildKit built in (Debian 12's docker.io 20.10 at /usr/bin/docker).
DOCKER_BUILD_CLI=""
for d in docker /usr/bin/docker; do
  command -v "$d" >/dev/null || continue
  if "$d" buildx version >/dev/null 2>&1; then DOCKER_BUILD_CLI="$d"; break; fi
  v="$("$d" version --format '{{.Client.Version}}' 2>/dev/null || true)"
  if [[ "${v%%.*}" =~ ^[0-9]+$ && "${v%%.*}" -lt 23 ]]; then DOCKER_BUILD_CLI="$d"; break; fi
done
[[ -n "$DOCKER_BUILD_CLI" ]] || die "no docker CLI with BuildKit (install the buildx plugin or Debian's docker.io)"
if docker compose version >/dev/null 2>&1; then COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null; then COMPOSE=(docker-compose)
else die "neither 'docker compose' nor 'docker-compose' is installed"; fi
command -v npm >/dev/null || die "npm is required (test/e2e)"

WORK="$(mktemp -d /tmp/mydocs-e2e.XXXXXX)"
PROJECT="mydocs-e2e-$$"
ARTIFACTS="${E2E_ARTIFACTS:-$ROOT/test/e2e/artifacts}"
mkdir -p "$ARTIFACTS"
BACKEND_IMAGE="mydocs-backend:e2e"
UI_IMAGE="mydocs-ui:e2e"

compose() { "${COMPOSE[@]}" -p "$PROJECT" --env-file "$WORK/compose.env" -f "$ROOT/docker-compose.yml" --profile local "$@"; }
cleanup() {
  local rc=$?
  if [[ "${E2E_KEEP:-0}" == 1 && -f "$WORK/compose.env" ]]; then
    log "E2E_KEEP=1: stack $PROJECT left up (down with: ${COMPOSE[*]} -p $PROJECT --env-file $WORK/compose.env -f docker-compose.yml --profile local down -v)"
  else
    docker rm -f "$PROJECT-oidc" >/dev/null 2>&1 || true   # step 5b's key server, if still there
    if [[ -f "$WORK/compose.env" ]]; then
      [[ $rc != 0 ]] && { compose ps >&2 || true; compose logs --no-color --tail=80 >&2 || true; }
      compose down -v --remove-orphans >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
  fi
  [[ $rc == 0 ]] && log "all e2e checks passed" || log "FAILED (exit $rc)"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------ 1. base images
log "1/6 base images"
bash scripts/bootstrap-base-images.sh --env-file "$WORK/bases.env" >/dev/null
# shellcheck disable=SC1091
source "$WORK/bases.env"

# ------------------------------------------------------------------ 2. images from a context with canaries
log "2/6 build both images (BuildKit via $DOCKER_BUILD_CLI) from a context that holds canaries"
CANARY="MYDOCS-CANARY-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
CTX="$WORK/context"
mkdir -p "$CTX"
# the working tree as git sees it (tracked + untracked, not ignored): what a developer's checkout holds
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$CTX" 2>/dev/null || true
else # a source tree without .git: everything but the bulky local folders (.dockerignore filters the rest)
  tar -C "$ROOT" --exclude=./.git --exclude=./node_modules --exclude='./*/node_modules' --exclude=./.venv \
      --exclude=./data --exclude=./.cache -cf - . | tar -C "$CTX" -xf -
fi
for f in Dockerfile.backend Dockerfile.ui .dockerignore requirements.lock pyproject.toml docs/backend.md mydocs-ui/package-lock.json deploy/nginx.conf; do
  [[ -f "$CTX/$f" ]] || die "the build context lacks $f"
done
# the canaries: everything .dockerignore must keep out
mkdir -p "$CTX/data/managed/ab" "$CTX/.git" "$CTX/mydocs-ui/node_modules/canary" "$CTX/node_modules/canary" \
         "$CTX/deploy/k8s/overlays/self-hosted" "$CTX/.venv"
printf 'MONGO_PASSWORD=%s\n' "$CANARY" > "$CTX/.env"
printf 'VITE_ENTRA_CLIENT_ID=%s\n' "$CANARY" > "$CTX/mydocs-ui/.env.local"
printf 'a document: %s\n' "$CANARY" > "$CTX/data/managed/ab/canary.txt"
printf '%s\n' "$CANARY" > "$CTX/.git/canary"
printf '%s\n' "$CANARY" > "$CTX/mydocs-ui/node_modules/canary/index.js"
printf '%s\n' "$CANARY" > "$CTX/node_modules/canary/index.js"
printf '%s\n' "$CANARY" > "$CTX/.venv/canary"
printf 'stringData:\n  MONGO_PASSWORD: %s\n' "$CANARY" > "$CTX/deploy/k8s/overlays/self-hosted/secret.yml"

build() { # dockerfile tag build-args...
  local df="$1" tag="$2"; shift 2
  local t0=$SECONDS
  DOCKER_BUILDKIT=1 "$DOCKER_BUILD_CLI" build --progress=plain -f "$CTX/$df" -t "$tag" "$@" "$CTX" >"$WORK/build-$tag.log" 2>&1 \
    || { tail -n 60 "$WORK/build-$tag.log" >&2; die "docker build -f $df failed (log above)"; }
  log "built $tag in $((SECONDS - t0)) s"
}
build Dockerfile.backend "$BACKEND_IMAGE" --build-arg "PYTHON_IMAGE=$PYTHON_IMAGE"
build Dockerfile.ui "$UI_IMAGE" --build-arg "NODE_IMAGE=$NODE_IMAGE" --build-arg "NGINX_IMAGE=$NGINX_IMAGE"

# positive control: the search below does find a canary that is in a layer
printf '%s\n' "$CANARY" > "$WORK/planted.txt"
printf 'FROM %s\nCOPY planted.txt /usr/share/nginx/html/planted.txt\n' "$UI_IMAGE" > "$WORK/Dockerfile.control"
DOCKER_BUILDKIT=1 "$DOCKER_BUILD_CLI" build -q -f "$WORK/Dockerfile.control" -t mydocs-e2e-control:canary "$WORK" >/dev/null
# docker save writes uncompressed layer tars, so file contents appear verbatim in the archive (saved to
# a file first: `docker save | grep -q` would report SIGPIPE as "not found" under pipefail)
holds_canary() { docker save -o "$WORK/image.tar" "$1" && grep -a -q -F "$CANARY" "$WORK/image.tar"; local r=$?; rm -f "$WORK/image.tar"; return $r; }
holds_canary mydocs-e2e-control:canary || die "canary search is blind: a planted canary was not found"
docker rmi mydocs-e2e-control:canary >/dev/null
# the real check: no layer of either image holds any canary
for img in "$BACKEND_IMAGE" "$UI_IMAGE"; do
  docker image inspect "$img" >/dev/null || die "no image $img"
  if holds_canary "$img"; then
    die "$img: a canary from .env / data/ / secret.yml / node_modules / .git / .venv is in a layer"
  fi
  log "ok: no canary in any layer of $img ($(docker image inspect -f '{{.Size}}' "$img" | awk '{printf "%.0f MB", $1/1e6}'))"
done
docker run --rm --entrypoint id "$BACKEND_IMAGE" -u | grep -qx 10001 || die "$BACKEND_IMAGE does not run as uid 10001"
docker run --rm --entrypoint id "$UI_IMAGE" -u | grep -qx 101 || die "$UI_IMAGE does not run as uid 101"

# ------------------------------------------------------------------ 2b. the k3d pods, with these images
# the k3d overlay's Deployments run with Docker under the limits the kubelet applies (user, read-only
# root, no capabilities, sysctls, volumes): the manifests' security settings fit the real images
log "k3d pods under their security contexts (test/pipeline/k8s/podrun.docker.test.ts)"
[[ -d node_modules ]] || flock /tmp/npm-root.lock npm ci --no-audit --no-fund
MYDOCS_POD_RUN_IMAGES="backend=$BACKEND_IMAGE,ui=$UI_IMAGE,mongo=$MONGO_IMAGE" \
  npx vitest run --root test/pipeline k8s/podrun.docker.test.ts || die "the k3d pods do not run under their security contexts"

# ------------------------------------------------------------------ 3. compose up, e2e suite
free_port() {
  python3 - "$1" <<'EOF'
import socket, sys
want = int(sys.argv[1])
for p in (want, 0):
    s = socket.socket()
    try:
        s.bind(("0.0.0.0", p)); print(s.getsockname()[1]); break
    except OSError:
        pass
    finally:
        s.close()
EOF
}
PORT="${E2E_PORT:-$(free_port 8080)}"
BPORT="$(free_port 0)"
mkdir -p "$WORK/data" "$WORK/config"
cat > "$WORK/compose.env" <<EOF
PYTHON_IMAGE=$PYTHON_IMAGE
NODE_IMAGE=$NODE_IMAGE
NGINX_IMAGE=$NGINX_IMAGE
MONGO_IMAGE=$MONGO_IMAGE
AZURITE_IMAGE=$AZURITE_IMAGE
BACKEND_IMAGE=$BACKEND_IMAGE
UI_IMAGE=$UI_IMAGE
UI_PORT=$PORT
UI_BIND=127.0.0.1
BACKEND_PORT=$BPORT
MYDOCS_DATA_DIR=$WORK/data
MYDOCS_CONFIG_DIR=$WORK/config
MYDOCS_ENV_FILE=$WORK/backend.env
EOF
backend_env() { # storage backend
  cat > "$WORK/backend.env" <<EOF
MONGO_URL=mongodb://db:27017
MONGO_DB_NAME=mydocs_e2e
MYDOCS_STORAGE_BACKEND=$1
AZURE_STORAGE_CONNECTION_STRING=DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://azurite:10000/devstoreaccount1;
AZURE_STORAGE_CONTAINER_NAME=e2e
EOF
}
backend_env local
BASE_URL="http://127.0.0.1:$PORT"

wait_healthy() { # seconds -> waits for every container of the project with a healthcheck, then /health/ready
  local deadline=$((SECONDS + $1)) all ok id st
  while :; do
    ok=1; all=""
    for id in $(compose ps -q); do
      st="$(docker inspect -f '{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}-{{end}}' "$id")"
      all+="$st; "
      case "$st" in *" running healthy"|*" running -"|*data-init*" exited "*) ;; *) ok=0 ;; esac
    done
    if [[ $ok == 1 && -n "$all" ]] && python3 -c "import sys,urllib.request; sys.exit(0 if urllib.request.urlopen('$BASE_URL/health/ready', timeout=3).status == 200 else 1)" 2>/dev/null; then
      return 0
    fi
    [[ $SECONDS -lt $deadline ]] || die "stack not healthy and ready within $1 s: $all"
    sleep 1
  done
}

log "3/6 compose up ($PROJECT, ${COMPOSE[*]}, $BASE_URL)"
t0=$SECONDS
compose up -d --no-build >"$WORK/up.log" 2>&1 || { cat "$WORK/up.log" >&2; die "compose up failed"; }
wait_healthy 180
log "stack healthy and ready in $((SECONDS - t0)) s"

log "running the e2e suite (test/e2e) against $BASE_URL"
(cd test/e2e && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
(cd test/e2e && BASE_URL="$BASE_URL" E2E_ARTIFACTS="$ARTIFACTS" npx vitest run) || die "e2e suite failed against $BASE_URL"

# ------------------------------------------------------------------ 4. persistence across down + up
log "4/6 persistence: seed, down, up, verify"
STATE="$WORK/persistence.json"
(cd test/e2e && BASE_URL="$BASE_URL" npx tsx persistence.ts seed --state "$STATE") || die "persistence seed failed"
compose down >/dev/null 2>&1 || die "compose down failed"
compose up -d --no-build >"$WORK/up2.log" 2>&1 || { cat "$WORK/up2.log" >&2; die "compose up (after down) failed"; }
wait_healthy 180
(cd test/e2e && BASE_URL="$BASE_URL" npx tsx persistence.ts verify --state "$STATE") || die "persistence verify failed: documents lost across down + up"

# ------------------------------------------------------------------ 5. azure_blob backend (Azurite)
log "5/6 the API suite with MYDOCS_STORAGE_BACKEND=azure_blob (Azurite)"
backend_env azure_blob
compose up -d --no-build backend >"$WORK/up3.log" 2>&1 || { cat "$WORK/up3.log" >&2; die "compose up backend (azure_blob) failed"; }
sleep 2
wait_healthy 180
python3 -c "import json,sys,urllib.request; i=json.load(urllib.request.urlopen('$BASE_URL/api/v1/info')); sys.exit(0 if i['storage_backend']=='azure_blob' else 'backend is not on azure_blob: %s' % i)"
(cd test/e2e && BASE_URL="$BASE_URL" E2E_SKIP_BROWSER=1 E2E_ARTIFACTS="$ARTIFACTS/azure_blob" npx vitest run tests/api.test.ts) \
  || die "API suite failed on the azure_blob backend"

# ------------------------------------------------------------------ 5b. auth on, through nginx
# A real OIDC key server (test/backend/oidc_provider.py, RSA keys generated at its start) runs in the
# backend container's network namespace, so the backend reaches its discovery document and JWKS on
# 127.0.0.1; the suite then expects 401 without a token and uses a token the server signed for the rest.
log "5b/6 auth on: the API suite against a backend that validates tokens from a real OIDC key server"
OIDC_PORT=8399
TENANT=11111111-2222-3333-4444-555555555555
backend_env local
cat >> "$WORK/backend.env" <<EOF
ENTRA_TENANT_ID=$TENANT
ENTRA_CLIENT_ID=aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee
ENTRA_ISSUER=http://127.0.0.1:$OIDC_PORT/$TENANT/v2.0
EOF
compose up -d --no-build backend >"$WORK/up4.log" 2>&1 || { cat "$WORK/up4.log" >&2; die "compose up backend (auth on) failed"; }
sleep 2
wait_healthy 180
docker run -d --name "$PROJECT-oidc" --network "container:$(compose ps -q backend)" --read-only --user 10001:10001 \
  -v "$ROOT/test/backend/oidc_provider.py:/opt/oidc_provider.py:ro" --entrypoint python3 "$BACKEND_IMAGE" \
  /opt/oidc_provider.py --port "$OIDC_PORT" >/dev/null || die "the OIDC key server did not start"
E2E_AUTH_TOKEN=""
for _ in $(seq 30); do
  E2E_AUTH_TOKEN="$(docker logs "$PROJECT-oidc" 2>/dev/null | sed -n 's/^TOKEN=//p')"
  [[ -n "$E2E_AUTH_TOKEN" ]] && break
  sleep 1
done
[[ -n "$E2E_AUTH_TOKEN" ]] || { docker logs "$PROJECT-oidc" >&2 || true; die "the OIDC key server printed no token"; }
code="$(python3 -c "import urllib.request,urllib.error
try: print(urllib.request.urlopen('$BASE_URL/api/v1/info').status)
except urllib.error.HTTPError as e: print(e.code)")"
[[ "$code" == 401 ]] || die "auth is not on: /api/v1/info without a token answered $code"
(cd test/e2e && E2E_AUTH_TOKEN="$E2E_AUTH_TOKEN" BASE_URL="$BASE_URL" E2E_EXPECT_AUTH=1 E2E_SKIP_BROWSER=1 \
  E2E_ARTIFACTS="$ARTIFACTS/auth" npx vitest run tests/api.test.ts) || die "API suite failed with auth on"
docker rm -f "$PROJECT-oidc" >/dev/null

log "6/6 tear down"

#!/usr/bin/env bash
# End-to-end on Docker Compose v2 (docs/images-and-compose.md), running the README's Docker commands as
# written (test/pipeline/images/readme-commands.ts lists them; thin additions only: the bootstrapped
# bases and the CA build secret appended to `docker build`, placeholders filled, ports / project name /
# image tags set in .env, `logs -f` stopped after 10 s):
#   1. checks Compose v2, buildx and BuildKit (scripts/install-docker-plugins.sh --check: one line
#      naming what to install), bootstraps the base images (scripts/bootstrap-base-images.sh),
#   2. in a copy of the working tree that carries canaries in .env, data/, a Kubernetes secret.yml,
#      node_modules and .git: the README's two `docker build` lines, on the -noca bases (no CA of this
#      machine in them) with this machine's CA bundle as the build secret ca_bundle, plus a canary
#      line in that secret; proves no canary (nor the secret) is in any layer (docker save + search,
#      with a positive control that the search finds a planted one),
#   3. `cp .env.example .env`, edits it, the README's `docker compose --profile local up -d --build`
#      (FerretDB + Azurite from the local bases), the same canary check on the images Compose built,
#      waits for healthy, the README's `docker compose logs -f backend`, runs the e2e suite (test/e2e)
#      against nginx, then runs the k3d overlay's pods with those images under their security contexts,
#   4. persistence: seeds a document, the README's `down` + `up -d --build`, verifies record and bytes,
#   5. the API suite again with MYDOCS_STORAGE_BACKEND=azure_blob (Azurite), then with auth on against
#      a real OIDC key server (401 without a token, everything else with a token it signed),
#   6. tears everything down (always, on success or failure).
# Needs: a running Docker engine with BuildKit, `docker compose` (v2) and `docker buildx`
# (scripts/install-docker-plugins.sh), debootstrap, npm, Node >= 20, git (.ci/run provisions all of it). Exit status: 0 all passed, 1 a check failed.
# Environment: E2E_PORT (default: 8080 when free, else any free port), E2E_KEEP=1 (leave the stack up),
# E2E_ARTIFACTS (default test/e2e/artifacts), E2E_SKIP_BROWSER (passed to the suite).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

log() { echo "test-e2e: $*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# ------------------------------------------------------------------ tools
# one line naming what to install when Compose v2, buildx or BuildKit is missing
bash scripts/install-docker-plugins.sh --check || exit 1
for c in npm git python3; do command -v "$c" >/dev/null || die "'$c' is required"; done
CA_BUNDLE="${MYDOCS_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
[[ -s "$CA_BUNDLE" ]] || die "CA bundle $CA_BUNDLE is missing or empty (set MYDOCS_CA_BUNDLE)"

WORK="$(mktemp -d /tmp/mydocs-e2e.XXXXXX)"
# the README's commands run in $CTX with this project name (Compose reads COMPOSE_PROJECT_NAME)
export COMPOSE_PROJECT_NAME="mydocs-e2e-$$"
PROJECT="$COMPOSE_PROJECT_NAME"
ARTIFACTS="${E2E_ARTIFACTS:-$ROOT/test/e2e/artifacts}"
mkdir -p "$ARTIFACTS"
BACKEND_IMAGE="mydocs-backend:e2e"
UI_IMAGE="mydocs-ui:e2e"
CTX="$WORK/context"
README_TAGS=()   # the tags the README's `docker build` lines created (removed at the end)

# Compose in the copy, as a user runs it there (.env of the copy; the local profile for ps/logs/down)
compose() { (cd "$CTX" && docker compose --profile local "$@"); }
cleanup() {
  local rc=$?
  if [[ "${E2E_KEEP:-0}" == 1 && -f "$CTX/.env" ]]; then
    log "E2E_KEEP=1: stack $PROJECT left up (down with: cd $CTX && COMPOSE_PROJECT_NAME=$PROJECT docker compose --profile local down -v)"
  else
    docker rm -f "$PROJECT-oidc" >/dev/null 2>&1 || true   # step 5b's key server, if still there
    if [[ -f "$CTX/.env" ]]; then
      [[ $rc != 0 ]] && { compose ps >&2 || true; compose logs --no-color --tail=80 >&2 || true; }
      compose down -v --remove-orphans >/dev/null 2>&1 || true
    fi
    [[ ${#README_TAGS[@]} -gt 0 ]] && { docker rmi "${README_TAGS[@]}" >/dev/null 2>&1 || true; }
    rm -rf "$WORK"
  fi
  [[ $rc == 0 ]] && log "all e2e checks passed" || log "FAILED (exit $rc)"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------ 1. base images, the README's commands
log "1/6 base images"
bash scripts/bootstrap-base-images.sh --env-file "$WORK/bases.env" >/dev/null
# shellcheck disable=SC1091
source "$WORK/bases.env"
[[ -n "${PYTHON_IMAGE_NOCA:-}" && -n "${NODE_IMAGE_NOCA:-}" ]] || die "bootstrap-base-images.sh printed no -noca bases"

[[ -d test/e2e/node_modules ]] || (cd test/e2e && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
(cd test/e2e && npx tsx ../pipeline/images/readme-commands.ts ../../README.md ../../docs/images-and-compose.md) > "$WORK/readme-commands.tsv" \
  || die "the README's Docker commands cannot all be run by this script (lines above)"
readme() { awk -F'\t' -v k="$1" '$1 == k { print $2 }' "$WORK/readme-commands.tsv"; }
# a README command, run as written in the copy (bash -c: its $(...) expand there, like in a shell)
run_readme() { # kind log-file [extra args inserted before the final " ."]
  local kind="$1" logf="$2" cmd; shift 2
  cmd="$(readme "$kind")"
  [[ -n "$cmd" ]] || die "the README shows no $kind command"
  if [[ $# -gt 0 ]]; then cmd="${cmd% .} $* ."; fi
  cmd="${cmd//<client-id>/$E2E_CLIENT_ID}"; cmd="${cmd//<tenant-id>/$E2E_TENANT_ID}"
  log "README: $cmd"
  (cd "$CTX" && bash -c "$cmd") >"$logf" 2>&1 || { tail -n 60 "$logf" >&2; die "the README's $kind command failed: $cmd (log above)"; }
}
E2E_CLIENT_ID=aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee
E2E_TENANT_ID=11111111-2222-3333-4444-555555555555

# ------------------------------------------------------------------ 2. the README's docker build lines, canaries
log "2/6 the README's docker build lines in a copy of the tree that holds canaries (bases without this machine's CA; CA as build secret)"
CANARY="MYDOCS-CANARY-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
mkdir -p "$CTX"
# the working tree as git sees it (tracked + untracked, not ignored): what a developer's checkout holds
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$CTX" 2>/dev/null || true
else # a source tree without .git: everything but the bulky local folders (.dockerignore filters the rest)
  tar -C "$ROOT" --exclude=./.git --exclude=./node_modules --exclude='./*/node_modules' --exclude=./.venv \
      --exclude=./data --exclude=./.cache -cf - . | tar -C "$CTX" -xf -
fi
for f in Dockerfile.backend Dockerfile.ui .dockerignore .env.example docker-compose.yml requirements.lock pyproject.toml docs/backend.md mydocs-ui/package-lock.json deploy/nginx.conf; do
  [[ -f "$CTX/$f" ]] || die "the build context lacks $f"
done
# a git repository of its own, so that the README's $(git rev-parse --short HEAD) answers in the copy
git -C "$CTX" init -q && git -C "$CTX" -c user.name=e2e -c user.email=e2e@localhost commit -q --allow-empty -m e2e
# the canaries: everything .dockerignore must keep out, and the build secret
mkdir -p "$CTX/data/managed/ab" "$CTX/mydocs-ui/node_modules/canary" "$CTX/node_modules/canary" \
         "$CTX/deploy/k8s/overlays/self-hosted" "$CTX/.venv"
printf 'MONGO_PASSWORD=%s\n' "$CANARY" > "$CTX/.env"
printf 'VITE_ENTRA_CLIENT_ID=%s\n' "$CANARY" > "$CTX/mydocs-ui/.env.local"
printf 'a document: %s\n' "$CANARY" > "$CTX/data/managed/ab/canary.txt"
printf '%s\n' "$CANARY" > "$CTX/.git/canary"
printf '%s\n' "$CANARY" > "$CTX/mydocs-ui/node_modules/canary/index.js"
printf '%s\n' "$CANARY" > "$CTX/node_modules/canary/index.js"
printf '%s\n' "$CANARY" > "$CTX/.venv/canary"
printf 'stringData:\n  MONGO_PASSWORD: %s\n' "$CANARY" > "$CTX/deploy/k8s/overlays/self-hosted/secret.yml"
# the build secret: this machine's CA bundle with a canary line (text outside PEM blocks is ignored)
SECRET_CA="$WORK/ca-bundle.pem"
{ printf '# %s\n' "$CANARY"; cat "$CA_BUNDLE"; } > "$SECRET_CA"
chmod 0600 "$SECRET_CA"

t0=$SECONDS
run_readme build-backend "$WORK/build-backend.log" --build-arg "PYTHON_IMAGE=$PYTHON_IMAGE_NOCA" --secret "id=ca_bundle,src=$SECRET_CA"
run_readme build-ui "$WORK/build-ui.log" --build-arg "NODE_IMAGE=$NODE_IMAGE_NOCA" --build-arg "NGINX_IMAGE=$NGINX_IMAGE" --secret "id=ca_bundle,src=$SECRET_CA"
log "both README builds in $((SECONDS - t0)) s"
sha="$(git -C "$CTX" rev-parse --short HEAD)"
README_TAGS=("mydocs-backend:$sha" "mydocs-ui:$sha")
for t in "${README_TAGS[@]}"; do docker image inspect "$t" >/dev/null 2>&1 || die "the README's docker build did not tag $t"; done
# the UI build took the README's Entra build args (the bundle holds the client id)
docker run --rm --entrypoint sh "mydocs-ui:$sha" -c "grep -rqF '$E2E_CLIENT_ID' /usr/share/nginx/html" \
  || die "mydocs-ui:$sha: the README's VITE_ENTRA_CLIENT_ID is not in the bundle"

# the -noca bases hold nothing of this machine: a TLS request through its egress needs the build secret
# (a RUN like the Dockerfiles' install steps: the secret mounted only there, optional)
printf '%s\n' "FROM $PYTHON_IMAGE_NOCA" \
  'RUN --mount=type=secret,id=ca_bundle,required=false if [ -s /run/secrets/ca_bundle ]; then export SSL_CERT_FILE=/run/secrets/ca_bundle; fi; python3 -c "import urllib.request; urllib.request.urlopen(\"https://pypi.org/simple/pip/\", timeout=30)"' \
  > "$WORK/Dockerfile.tls"
docker build --progress=plain --no-cache --secret "id=ca_bundle,src=$SECRET_CA" -t mydocs-e2e-control:tls -f "$WORK/Dockerfile.tls" "$WORK" >"$WORK/tls-with.log" 2>&1 \
  || { tail -n 20 "$WORK/tls-with.log" >&2; die "$PYTHON_IMAGE_NOCA: HTTPS to pypi.org fails even with the ca_bundle build secret"; }
if docker build --progress=plain --no-cache -t mydocs-e2e-control:tls -f "$WORK/Dockerfile.tls" "$WORK" >"$WORK/tls-without.log" 2>&1; then
  log "note: this machine's egress needs no extra CA (HTTPS to pypi.org works on $PYTHON_IMAGE_NOCA without the secret)"
else
  grep -q "CERTIFICATE_VERIFY_FAILED" "$WORK/tls-without.log" || { tail -n 20 "$WORK/tls-without.log" >&2; die "the build without the secret failed for another reason than TLS"; }
  log "ok: on $PYTHON_IMAGE_NOCA HTTPS through this machine's proxy fails without the ca_bundle secret and works with it"
fi
docker rmi mydocs-e2e-control:tls >/dev/null

# positive control: the search below does find a canary that is in a layer
printf '%s\n' "$CANARY" > "$WORK/planted.txt"
printf 'FROM %s\nCOPY planted.txt /usr/share/nginx/html/planted.txt\n' "mydocs-ui:$sha" > "$WORK/Dockerfile.control"
docker build -q -f "$WORK/Dockerfile.control" -t mydocs-e2e-control:canary "$WORK" >/dev/null
# docker save writes uncompressed layer tars, so file contents appear verbatim in the archive (saved to
# a file first: `docker save | grep -q` would report SIGPIPE as "not found" under pipefail)
holds_canary() { docker save -o "$WORK/image.tar" "$1" && grep -a -q -F "$CANARY" "$WORK/image.tar"; local r=$?; rm -f "$WORK/image.tar"; return $r; }
holds_canary mydocs-e2e-control:canary || die "canary search is blind: a planted canary was not found"
docker rmi mydocs-e2e-control:canary >/dev/null
no_canary() { # image...: no layer holds a canary (context files or the build secret), non-root user
  local img
  for img in "$@"; do
    docker image inspect "$img" >/dev/null || die "no image $img"
    if holds_canary "$img"; then
      die "$img: a canary from .env / data/ / secret.yml / node_modules / .git / .venv / the ca_bundle build secret is in a layer"
    fi
    log "ok: no canary in any layer of $img ($(docker image inspect -f '{{.Size}}' "$img" | awk '{printf "%.0f MB", $1/1e6}'))"
  done
}
no_canary "mydocs-backend:$sha" "mydocs-ui:$sha"

# ------------------------------------------------------------------ 3. cp .env.example .env, compose up --build
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
run_readme env-copy "$WORK/env-copy.log"
# "then edit it": this machine's bases and CA, free ports, the run's data folders, e2e image tags
set_env() { # NAME value: replace the line of .env.example
  grep -q "^$1=" "$CTX/.env" || die ".env.example has no $1= line"
  NAME="$1" VALUE="$2" python3 -c 'import os,re,sys; p=sys.argv[1]; t=open(p).read(); n=os.environ["NAME"]; v=os.environ["VALUE"]; open(p,"w").write(re.sub("(?m)^"+n+"=.*$", lambda m: n+"="+v, t))' "$CTX/.env"
}
set_env PYTHON_IMAGE "$PYTHON_IMAGE_NOCA"; set_env NODE_IMAGE "$NODE_IMAGE_NOCA"; set_env NGINX_IMAGE "$NGINX_IMAGE"
set_env MONGO_IMAGE "$MONGO_IMAGE"; set_env AZURITE_IMAGE "$AZURITE_IMAGE"
set_env MYDOCS_CA_BUNDLE "$SECRET_CA"
set_env BACKEND_IMAGE "$BACKEND_IMAGE"; set_env UI_IMAGE "$UI_IMAGE"
set_env UI_PORT "$PORT"; set_env UI_BIND 127.0.0.1; set_env BACKEND_PORT "$BPORT"
set_env MYDOCS_DATA_DIR "$WORK/data"; set_env MYDOCS_CONFIG_DIR "$WORK/config"; set_env MYDOCS_ENV_FILE "$WORK/backend.env"
printf '# %s\n' "$CANARY" >> "$CTX/.env"   # the context's .env still must not reach a layer
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

# bad input: a CA bundle path that does not exist stops the build before anything runs, naming the path
if (cd "$CTX" && MYDOCS_CA_BUNDLE="$WORK/no-such-ca.pem" docker compose --profile local build backend) >"$WORK/bad-ca.log" 2>&1; then
  die "docker compose build succeeded with MYDOCS_CA_BUNDLE naming a missing file"
fi
grep -q "no-such-ca.pem" "$WORK/bad-ca.log" || { cat "$WORK/bad-ca.log" >&2; die "a missing MYDOCS_CA_BUNDLE file is not named in Compose's error"; }
log "ok: a missing MYDOCS_CA_BUNDLE file stops docker compose build: $(grep -m1 'no-such-ca.pem' "$WORK/bad-ca.log")"

log "3/6 the README's compose up ($PROJECT, $(docker compose version --short), $BASE_URL)"
t0=$SECONDS
run_readme up "$WORK/up.log"
wait_healthy 240
log "stack built, healthy and ready in $((SECONDS - t0)) s"
no_canary "$BACKEND_IMAGE" "$UI_IMAGE"
docker run --rm --entrypoint id "$BACKEND_IMAGE" -u | grep -qx 10001 || die "$BACKEND_IMAGE does not run as uid 10001"
docker run --rm --entrypoint id "$UI_IMAGE" -u | grep -qx 101 || die "$UI_IMAGE does not run as uid 101"
# the README's `logs -f` follows until interrupted: stopped after 10 s, it must have shown uvicorn's start
cmd="$(readme logs)"; log "README: $cmd (10 s)"
(cd "$CTX" && timeout 10 bash -c "$cmd") >"$WORK/logs.txt" 2>&1 || [[ $? == 124 ]] || { cat "$WORK/logs.txt" >&2; die "the README's logs command failed: $cmd"; }
grep -q "Uvicorn running on http://0.0.0.0:8000" "$WORK/logs.txt" || { tail -n 20 "$WORK/logs.txt" >&2; die "the README's logs command did not show the backend's start"; }

log "running the e2e suite (test/e2e) against $BASE_URL"
(cd test/e2e && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
(cd test/e2e && BASE_URL="$BASE_URL" E2E_ARTIFACTS="$ARTIFACTS" npx vitest run) || die "e2e suite failed against $BASE_URL"

# ------------------------------------------------------------------ 3b. the k3d pods, with these images
# the k3d overlay's Deployments run with Docker under the limits the kubelet applies (user, read-only
# root, no capabilities, sysctls, volumes): the manifests' security settings fit the real images
log "k3d pods under their security contexts (test/pipeline/k8s/podrun.docker.test.ts)"
[[ -d node_modules ]] || flock /tmp/npm-root.lock npm ci --no-audit --no-fund
MYDOCS_POD_RUN_IMAGES="backend=$BACKEND_IMAGE,ui=$UI_IMAGE,mongo=$MONGO_IMAGE" \
  npx vitest run --root test/pipeline k8s/podrun.docker.test.ts || die "the k3d pods do not run under their security contexts"

# ------------------------------------------------------------------ 4. persistence across down + up
log "4/6 persistence: seed, the README's down, up -d --build, verify"
STATE="$WORK/persistence.json"
(cd test/e2e && BASE_URL="$BASE_URL" npx tsx persistence.ts seed --state "$STATE") || die "persistence seed failed"
run_readme down "$WORK/down.log"
[[ -z "$(compose ps -q)" ]] || die "the README's down left containers running"
run_readme up "$WORK/up2.log"
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

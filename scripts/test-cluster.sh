#!/usr/bin/env bash
# The manifests and the e2e suite on a real Kubernetes cluster (docs/kubernetes.md "The test cluster"):
#   1. `bash scripts/cluster.sh up`: a one-node Kubernetes v1.34.4 built from the Go module proxy, our
#      images loaded into its containerd, the k3d test overlay applied, the rollouts awaited,
#   2. test/pipeline/k8s/live.cluster.test.ts: Pod Security admission, every overlay admitted
#      server-side, rollouts and probes, the PVC bound, a ConfigMap change rolling the pods, a broken
#      image tag detected and undone,
#   3. the e2e suite (test/e2e) against the Ingress: SPA, deep link, /health, 100 MiB up and down
#      byte-identical, 100 MiB + 1 refused with 413, Chromium,
#   4. the Dagger module on the engine v0.21.8 (scripts/dagger-engine.sh; started for it when not
#      running) against this cluster at the node's address: testOnCluster, and deployAks's Kubernetes
#      step with its rollback (test/dagger/cluster.cluster.test.ts, deploy.cluster.test.ts),
#   5. persistence across the deletion of the backend pod (seed, delete, wait, verify),
#   6. `bash scripts/cluster.sh down`: always, on success or failure (CLUSTER_KEEP=1 leaves it up).
# Needs what .ci/run provisions (Docker engine with BuildKit, debootstrap, Go, gcc, kubectl, npm, Chromium).
# Exit status: 0 all passed, 1 a check failed.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "test-cluster: $*" >&2; }
die() { log "FAIL: $*"; exit 1; }
t0=$SECONDS
ARTIFACTS="${E2E_ARTIFACTS:-$PWD/test/e2e/artifacts/cluster}"
STATE_DIR="$(mktemp -d /tmp/mydocs-cluster-persist.XXXXXX)"
STATE="$STATE_DIR/state.json"   # persistence.ts writes it

cleanup() {
  local rc=$?
  if [[ $rc != 0 ]]; then
    bash scripts/cluster.sh logs || true
    [[ -n "${KUBECONFIG:-}" ]] && { "${KUBECTL:-kubectl}" get pods -A -o wide >&2 || true; "${KUBECTL:-kubectl}" -n mydocs get events --sort-by=.lastTimestamp 2>/dev/null | tail -n 30 >&2 || true; }
  fi
  [[ "${engine_started:-0}" == 1 ]] && { bash scripts/dagger-engine.sh down || true; }
  if [[ "${CLUSTER_KEEP:-0}" == 1 ]]; then
    log "CLUSTER_KEEP=1: cluster left up (bash scripts/cluster.sh down deletes it)"
  else
    bash scripts/cluster.sh down || true
  fi
  rm -rf "$STATE_DIR"
  [[ $rc == 0 ]] && log "all cluster checks passed in $((SECONDS - t0)) s" || log "FAILED (exit $rc)"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "1/5 cluster up"
env_out="$(MYDOCS_CLUSTER_KEEP=1 bash scripts/cluster.sh up)" || die "scripts/cluster.sh up failed"
eval "$env_out"
log "cluster ready after $((SECONDS - t0)) s: $BASE_URL"

[[ -d node_modules ]] && npm ls --depth=0 >/dev/null 2>&1 || flock /tmp/npm-root.lock npm ci --no-audit --no-fund --loglevel=error >/dev/null
[[ -d test/e2e/node_modules ]] || (cd test/e2e && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

log "2/5 the manifests on the live cluster"
npx vitest run --root test/pipeline k8s/live.cluster.test.ts || die "the live-cluster checks failed"

log "3/5 the e2e suite against the Ingress ($BASE_URL)"
mkdir -p "$ARTIFACTS"
(cd test/e2e && BASE_URL="$BASE_URL" E2E_ARTIFACTS="$ARTIFACTS" npx vitest run) || die "e2e suite failed against the cluster's Ingress"

log "4/5 the module's testOnCluster and deploy step on the Dagger engine against this cluster"
engine_started=0
bash scripts/dagger-engine.sh env >/dev/null 2>&1 || engine_started=1
eval "$(bash scripts/dagger-engine.sh up)"
[[ -d node_modules/@dagger.io/dagger ]] || die "root node_modules lack @dagger.io/dagger (npm ci)"
npx vitest run --root test/dagger cluster.cluster.test.ts deploy.cluster.test.ts || die "the module's testOnCluster / deploy step on the engine failed"
if [[ $engine_started == 1 ]]; then bash scripts/dagger-engine.sh down; engine_started=0; fi

log "5/5 persistence across a backend pod deletion"
(cd test/e2e && BASE_URL="$BASE_URL" npx tsx persistence.ts seed --state "$STATE") || die "persistence seed failed"
old_pod="$("$KUBECTL" -n mydocs get pods -l app.kubernetes.io/name=mydocs-backend -o jsonpath='{.items[0].metadata.name}')"
"$KUBECTL" -n mydocs delete pod "$old_pod" --wait=true >/dev/null
"$KUBECTL" -n mydocs rollout status deployment/backend --timeout=180s >&2
new_pod="$("$KUBECTL" -n mydocs get pods -l app.kubernetes.io/name=mydocs-backend -o jsonpath='{.items[0].metadata.name}')"
[[ "$new_pod" != "$old_pod" ]] || die "the backend pod was not replaced"
for _ in $(seq 60); do curl -fsS -o /dev/null "$BASE_URL/health/ready" 2>/dev/null && break; sleep 1; done
(cd test/e2e && BASE_URL="$BASE_URL" npx tsx persistence.ts verify --state "$STATE") \
  || die "persistence verify failed: documents lost when pod $old_pod was replaced by $new_pod"
log "documents survived: $old_pod -> $new_pod"

/**
 * The shell scripts the module runs inside containers, generated from validated parameters. Every
 * interpolated value goes through `shellQuote`; secret values are never interpolated: they arrive
 * as files mounted by Dagger (`withMountedSecret`) and are read by kubectl from there.
 */
import { CLUSTER_STEPS, K3D_STEPS } from "./report.js"

/** POSIX single-quote quoting: safe for any string. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`
}

export interface DeploymentRef {
  namespace: string
  name: string
}

const K8S_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/

function checkDeployments(ds: DeploymentRef[]): void {
  if (ds.length === 0) throw new Error("no Deployment to await")
  for (const d of ds) {
    if (!K8S_NAME.test(d.namespace) || !K8S_NAME.test(d.name)) {
      throw new Error(`not a Kubernetes name: ${d.namespace}/${d.name}`)
    }
  }
}

export interface K3dScriptParams {
  cluster: string
  k3sImage: string
  /** port on the dind container's loopback that k3d maps to the load balancer's port 80 */
  hostPort: number
  /** Ingress host to resolve to 127.0.0.1, or null when the rules match any host */
  ingressHost: string | null
  rolloutTimeout: string
  deployments: DeploymentRef[]
  /** image tarballs (Container.asTarball) and the name:tag the overlay expects */
  images: Array<{ tarball: string; ref: string }>
  ingressManifest: string
  /** why the manifest could not be fetched (the install-ingress step then fails with it), or null */
  ingressManifestError: string | null
  overlayDir: string
  e2eDir: string
  browser: boolean
  reportDir: string
}

export function k3dBaseUrl(p: Pick<K3dScriptParams, "ingressHost" | "hostPort">): string {
  return `http://${p.ingressHost ?? "127.0.0.1"}:${p.hostPort}`
}

/**
 * Shell functions testOnK3d and testOnCluster share (they expect OVERLAY, DEPLOYMENTS, TIMEOUT, BASE_URL,
 * E2E_DIR, REPORT and BROWSER set, and an `http_code URL` function): the overlay applied, every rollout
 * awaited and the ingress answering, the e2e suite run (`run_e2e [chromium]`), and the cluster's state
 * for the diagnostics.
 */
function sharedClusterSteps(): string {
  return `apply_overlay() {
  # an ingress controller's admission webhook may need a few seconds after its rollout
  local i
  for i in 1 2 3 4 5 6; do
    if kubectl apply -k "$OVERLAY"; then return 0; fi
    echo "apply failed (attempt $i), retrying in 10s"; sleep 10
  done
  return 1
}

rollout() {
  local d
  for d in "\${DEPLOYMENTS[@]}"; do
    kubectl -n "\${d%%/*}" rollout status "deployment/\${d#*/}" --timeout="$TIMEOUT" || return 1
  done
  local code=""
  for _ in $(seq 1 60); do
    code=$(http_code "$BASE_URL/health" || true)
    if [ "$code" = "200" ]; then echo "ingress answers $BASE_URL/health with 200"; return 0; fi
    sleep 2
  done
  echo "ingress did not answer $BASE_URL/health with 200 (last: $code)"; return 1
}

run_e2e() {
  local chromium=\${1:-}
  cd "$E2E_DIR" || return 1
  npm ci --no-audit --no-fund || return 1
  if [ "$BROWSER" = 1 ]; then
    BASE_URL="$BASE_URL" E2E_ARTIFACTS="$REPORT/e2e-artifacts" CHROMIUM_PATH="$chromium" npx vitest run
  else
    BASE_URL="$BASE_URL" E2E_ARTIFACTS="$REPORT/e2e-artifacts" E2E_SKIP_BROWSER=1 npx vitest run
  fi
}

kube_diagnostics() {
  local d
  echo "### nodes"; kubectl get nodes -o wide
  echo "### pods"; kubectl get pods -A -o wide
  echo "### events"; kubectl get events -A --sort-by=.lastTimestamp | tail -n 80
  for d in "\${DEPLOYMENTS[@]}"; do
    echo "### deployment $d"; kubectl -n "\${d%%/*}" describe "deployment/\${d#*/}" | tail -n 40
    echo "### logs $d"; kubectl -n "\${d%%/*}" logs "deployment/\${d#*/}" --all-containers --tail=200
    echo "### previous logs $d"; kubectl -n "\${d%%/*}" logs "deployment/\${d#*/}" --all-containers --previous --tail=50
  done
}`
}

/**
 * Shell: the report folder (steps.log, diagnostics.txt) and record / run_step, which write
 * `STEP <name> <status> <seconds>` lines to $REPORT/steps.log; after a failed step the rest are skipped.
 */
const STEP_RUNNER = `mkdir -p "$REPORT"
: > "$REPORT/steps.log"
: > "$REPORT/diagnostics.txt"
FAILED=""

record() { echo "STEP $1 $2 $3" >> "$REPORT/steps.log"; }

run_step() {
  local name=$1; shift
  if [ -n "$FAILED" ]; then record "$name" skipped 0; return 0; fi
  local start=$SECONDS
  echo "=== step $name"
  if "$@" 2>&1 | tee "$REPORT/$name.log"; then
    record "$name" ok $((SECONDS - start))
  else
    record "$name" failed $((SECONDS - start))
    FAILED=$name
  fi
}`

/**
 * The all-in-one test script for the k3d dind image: dockerd, a k3d cluster, the images imported,
 * ingress-nginx, the overlay, rollouts, the e2e suite; diagnostics on failure; the cluster always
 * deleted (EXIT trap). Writes `STEP <name> <ok|failed|skipped> <seconds>` lines to
 * `<reportDir>/steps.log`, and exits 0 only when every step passed.
 */
export function k3dTestScript(p: K3dScriptParams): string {
  if (!/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/.test(p.cluster)) throw new Error(`bad cluster name "${p.cluster}"`)
  if (!Number.isInteger(p.hostPort) || p.hostPort < 1024 || p.hostPort > 65535) throw new Error("hostPort: 1024..65535")
  if (p.ingressHost !== null && !/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/.test(p.ingressHost)) {
    throw new Error(`bad ingress host "${p.ingressHost}"`)
  }
  checkDeployments(p.deployments)
  if (p.images.length === 0) throw new Error("no image to import")
  const q = shellQuote
  const baseUrl = k3dBaseUrl(p)
  const images = p.images.map((i) => q(`${i.tarball}=${i.ref}`)).join(" ")
  const deployments = p.deployments.map((d) => q(`${d.namespace}/${d.name}`)).join(" ")
  return `#!/usr/bin/env bash
# Generated by .dagger/src/scripts.ts (testOnK3d). Runs inside ${"k3d's dind image"}, privileged.
set -uo pipefail
REPORT=${q(p.reportDir)}
CLUSTER=${q(p.cluster)}
K3S_IMAGE=${q(p.k3sImage)}
HOST_PORT=${p.hostPort}
INGRESS_HOST=${q(p.ingressHost ?? "")}
BASE_URL=${q(baseUrl)}
TIMEOUT=${q(p.rolloutTimeout)}
INGRESS_MANIFEST=${q(p.ingressManifest)}
INGRESS_MANIFEST_ERROR=${q(p.ingressManifestError ?? "")}
OVERLAY=${q(p.overlayDir)}
E2E_DIR=${q(p.e2eDir)}
BROWSER=${p.browser ? "1" : "0"}
IMAGES=(${images})
DEPLOYMENTS=(${deployments})

${STEP_RUNNER}

# the engine mounts /etc/hosts read-only: an Ingress host is resolved per request instead
http_code() {
  local resolve=()
  if [ -n "$INGRESS_HOST" ]; then resolve=(--resolve "$INGRESS_HOST:$HOST_PORT:127.0.0.1"); fi
  curl -s "\${resolve[@]}" -o /dev/null -w '%{http_code}' "$1"
}

start_docker() {
  # run_step pipes this function through tee (a subshell): keep the pid in a file for finish().
  # docker:dind's entrypoint sets up cgroups and mounts; any other dind image starts dockerd itself
  if command -v dockerd-entrypoint.sh > /dev/null; then
    DOCKER_TLS_CERTDIR="" dockerd-entrypoint.sh dockerd > "$REPORT/dockerd.log" 2>&1 &
  else
    dockerd > "$REPORT/dockerd.log" 2>&1 &
  fi
  echo $! > "$REPORT/dockerd.pid"
  for _ in $(seq 1 90); do
    if docker info > /dev/null 2>&1; then docker version --format 'dockerd {{.Server.Version}}'; return 0; fi
    sleep 1
  done
  echo "dockerd did not answer within 90s"; tail -n 40 "$REPORT/dockerd.log"; return 1
}

create_cluster() {
  k3d version
  # /var/lib/docker is a cache volume: remove what an interrupted earlier run may have left
  k3d cluster delete "$CLUSTER" > /dev/null 2>&1 || true
  k3d cluster create "$CLUSTER" --image "$K3S_IMAGE" --servers 1 --agents 0 \\
    --k3s-arg "--disable=traefik@server:0" \\
    -p "$HOST_PORT:80@loadbalancer" --wait --timeout 180s || return 1
  kubectl cluster-info && kubectl get nodes -o wide
}

import_images() {
  local pair tarball ref loaded
  for pair in "\${IMAGES[@]}"; do
    tarball=\${pair%%=*}; ref=\${pair#*=}
    loaded=$(docker load -i "$tarball" | sed -n 's/^Loaded image\\( ID\\)\\{0,1\\}: //p' | tail -n 1)
    if [ -z "$loaded" ]; then echo "docker load of $tarball reported no image"; return 1; fi
    docker tag "$loaded" "$ref" || return 1
    k3d image import "$ref" -c "$CLUSTER" || return 1
    echo "imported $ref"
  done
}

install_ingress() {
  if [ -n "$INGRESS_MANIFEST_ERROR" ]; then echo "ingress-nginx manifest unavailable: $INGRESS_MANIFEST_ERROR"; return 1; fi
  kubectl apply -f "$INGRESS_MANIFEST" || return 1
  # the controller mounts the webhook certificate the admission job creates: its rollout implies the
  # job ran (the jobs themselves may be gone already: ttlSecondsAfterFinished)
  kubectl -n ingress-nginx rollout status deployment/ingress-nginx-controller --timeout="$TIMEOUT"
}

${sharedClusterSteps()}

e2e() {
  local pkgs="nodejs npm"
  if [ "$BROWSER" = 1 ]; then pkgs="$pkgs chromium"; fi
  # shellcheck disable=SC2086
  apk add --no-cache $pkgs > /dev/null || return 1
  local chromium=""
  if [ "$BROWSER" = 1 ]; then chromium=$(command -v chromium || command -v chromium-browser || true); fi
  run_e2e "$chromium"
}

collect_diagnostics() {
  local d
  {
    echo "### failed step: $FAILED (last 80 lines)"; tail -n 80 "$REPORT/$FAILED.log"
    if ! kubectl version --request-timeout=10s > /dev/null 2>&1; then
      echo "### no cluster API answers (the cluster was not created or is gone): nothing more to collect"
      echo "### docker"; docker ps -a; docker images
      return 0
    fi
    kube_diagnostics
    echo "### ingress-nginx"; kubectl -n ingress-nginx logs deployment/ingress-nginx-controller --tail=80
  } > "$REPORT/diagnostics.txt" 2>&1
}

# the cluster deleted, nothing of it left, and the cache volume pruned of what this run no longer needs
# (images unused for a week, dangling volumes): it would otherwise only grow
cleanup() {
  k3d cluster delete "$CLUSTER" || return 1
  if docker info > /dev/null 2>&1; then
    docker image prune -af --filter until=168h > /dev/null || true
    docker volume prune -f > /dev/null || true
    docker network prune -f > /dev/null || true
    docker ps -a --format '{{.Names}}' > "$REPORT/leftover-containers.txt"
    if [ -s "$REPORT/leftover-containers.txt" ]; then echo "containers left behind:"; cat "$REPORT/leftover-containers.txt"; return 1; fi
  fi
  echo "cluster $CLUSTER deleted, no container left"
}

finish() {
  if [ -n "$FAILED" ]; then collect_diagnostics; fi
  local start=$SECONDS
  if cleanup > "$REPORT/delete-cluster.log" 2>&1; then
    record delete-cluster ok $((SECONDS - start))
  else
    record delete-cluster failed $((SECONDS - start)); FAILED=\${FAILED:-delete-cluster}
  fi
  if [ -s "$REPORT/dockerd.pid" ]; then
    kill "$(cat "$REPORT/dockerd.pid")" 2> /dev/null || true
    for _ in $(seq 1 30); do kill -0 "$(cat "$REPORT/dockerd.pid")" 2> /dev/null || break; sleep 1; done
  fi
  if [ -z "$FAILED" ]; then exit 0; fi
  exit 1
}
trap finish EXIT

run_step ${K3D_STEPS[0]} start_docker
run_step ${K3D_STEPS[1]} create_cluster
run_step ${K3D_STEPS[2]} import_images
run_step ${K3D_STEPS[3]} install_ingress
run_step ${K3D_STEPS[4]} apply_overlay
run_step ${K3D_STEPS[5]} rollout
run_step ${K3D_STEPS[6]} e2e
`
}

export interface ClusterTestScriptParams {
  /** the URL the e2e suite runs against (the cluster's Ingress as seen from the test container) */
  baseUrl: string
  rolloutTimeout: string
  deployments: DeploymentRef[]
  overlayDir: string
  e2eDir: string
  reportDir: string
}

/**
 * testOnCluster's script, for a container with kubectl, Node and the kubeconfig: the cluster answers,
 * the overlay applied, rollouts awaited and the ingress answering, the e2e suite (HTTP checks) against
 * `baseUrl`; diagnostics on failure. The same steps as testOnK3d's second half (sharedClusterSteps);
 * the cluster is the caller's: nothing here creates or deletes it. Exits 0 only when every step passed.
 */
export function clusterTestScript(p: ClusterTestScriptParams): string {
  checkDeployments(p.deployments)
  const u = new URL(p.baseUrl)
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error(`baseUrl: http:// or https:// only (got ${u.protocol})`)
  const q = shellQuote
  const deployments = p.deployments.map((d) => q(`${d.namespace}/${d.name}`)).join(" ")
  return `#!/usr/bin/env bash
# Generated by .dagger/src/scripts.ts (testOnCluster).
set -uo pipefail
REPORT=${q(p.reportDir)}
BASE_URL=${q(p.baseUrl.replace(/\/+$/, ""))}
TIMEOUT=${q(p.rolloutTimeout)}
OVERLAY=${q(p.overlayDir)}
E2E_DIR=${q(p.e2eDir)}
BROWSER=0
DEPLOYMENTS=(${deployments})

${STEP_RUNNER}

# no curl in the Node image: Node's own fetch
http_code() {
  node -e 'fetch(process.argv[1], { signal: AbortSignal.timeout(5000) }).then((r) => console.log(r.status), () => console.log(0))' "$1"
}

check_cluster() {
  kubectl version --request-timeout=20s || { echo "cannot reach the Kubernetes API at $(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}' 2>/dev/null)"; return 1; }
  kubectl get nodes -o wide
}

${sharedClusterSteps()}

finish() {
  if [ -n "$FAILED" ]; then
    { echo "### failed step: $FAILED (last 80 lines)"; tail -n 80 "$REPORT/$FAILED.log"
      if kubectl version --request-timeout=10s > /dev/null 2>&1; then kube_diagnostics; fi
    } > "$REPORT/diagnostics.txt" 2>&1
    exit 1
  fi
  exit 0
}
trap finish EXIT

run_step ${CLUSTER_STEPS[0]} check_cluster
run_step ${CLUSTER_STEPS[1]} apply_overlay
run_step ${CLUSTER_STEPS[2]} rollout
run_step ${CLUSTER_STEPS[3]} run_e2e
`
}

export interface DeployScriptParams {
  /** namespace of the app and its Secret (docs/contracts.md §5: mydocs) */
  namespace: string
  secretName: string
  /** path of the mounted env file for the Secret, or null to leave the Secret as it is */
  secretEnvFile: string | null
  overlayDir: string
  deployments: DeploymentRef[]
  rolloutTimeout: string
}

/** Output line prefixes of the deploy and rollback scripts (parsed by deploy.ts). */
export const DEPLOY_LINES = {
  /** `DEPLOY-PREVIOUS <namespace>/<name> <revision|none>`: the revision before this deploy */
  previous: "DEPLOY-PREVIOUS ",
  /** `DEPLOY-ROLLOUT-FAILED <namespace>/<name> ...`: the rollouts that did not complete in time */
  rolloutFailed: "DEPLOY-ROLLOUT-FAILED ",
  /** `DEPLOY-ROLLED-BACK <namespace>/<name>@<revision> ...` or `DEPLOY-ROLLED-BACK none (...)` */
  rolledBack: "DEPLOY-ROLLED-BACK ",
  /** `DEPLOY-ROLLBACK-FAILED <namespace>/<name>`: the previous revision did not come back either */
  rollbackFailed: "DEPLOY-ROLLBACK-FAILED ",
}
/** Exit codes of the deploy script besides 0 and 1. */
export const DEPLOY_EXIT = { unreachable: 3, rolledBack: 4, rollbackFailed: 5 }

/** Previous revision of each Deployment (`namespace/name` -> revision; absent: it did not exist). */
export type Revisions = Record<string, string>

/** Shell: revision_of NS NAME prints the Deployment's revision annotation (empty when it does not exist). */
const REVISION_OF = `revision_of() {
  kubectl -n "$1" get deployment "$2" -o jsonpath='{.metadata.annotations.deployment\\.kubernetes\\.io/revision}' 2>/dev/null || true
}`

/**
 * Shell: a `rollback` function that returns each Deployment whose revision moved to the one in
 * PREV_<i>, awaits those rollouts and reports; exits 5 when a previous revision does not come back.
 */
function rollbackFunction(ds: DeploymentRef[], rolloutTimeout: string): string {
  const q = shellQuote
  const undo = ds.map((d, i) => `  if [ -n "$PREV_${i}" ] && [ "$(revision_of ${q(d.namespace)} ${q(d.name)})" != "$PREV_${i}" ]; then
    kubectl -n ${q(d.namespace)} rollout undo deployment/${q(d.name)} --to-revision="$PREV_${i}"
    UNDONE="$UNDONE ${d.namespace}/${d.name}@$PREV_${i}"
    WAIT_${i}=1
  fi`).join("\n")
  const wait = ds.map((d, i) => `  if [ -n "\${WAIT_${i}:-}" ]; then
    kubectl -n ${q(d.namespace)} rollout status deployment/${q(d.name)} --timeout=${q(rolloutTimeout)} \\
      || { echo "${DEPLOY_LINES.rollbackFailed}${d.namespace}/${d.name}"; exit ${DEPLOY_EXIT.rollbackFailed}; }
  fi`).join("\n")
  return `rollback() {
  UNDONE=""
${undo}
${wait}
  if [ -n "$UNDONE" ]; then echo "${DEPLOY_LINES.rolledBack}\${UNDONE# }"
  else echo "${DEPLOY_LINES.rolledBack}none (no Deployment had a previous revision to return to)"; fi
}`
}

/**
 * The deploy script for the kubectl container: namespace, the Secret created or updated
 * idempotently from a mounted env file (`create --dry-run=client -o yaml | apply -f -`), the
 * overlay applied, a restart when only the Secret changed, every rollout awaited; pods and events
 * printed on failure. It prints each Deployment's revision before the apply (DEPLOY-PREVIOUS), and
 * when a rollout does not complete in time it rolls every changed Deployment back to that revision
 * and exits 4 (5 when the rollback does not complete either). The Secret is not rolled back.
 */
export function deployScript(p: DeployScriptParams): string {
  if (!K8S_NAME.test(p.namespace)) throw new Error(`bad namespace "${p.namespace}"`)
  if (!K8S_NAME.test(p.secretName)) throw new Error(`bad secret name "${p.secretName}"`)
  checkDeployments(p.deployments)
  const q = shellQuote
  const secretBlock = p.secretEnvFile === null
    ? `echo "secret ${p.secretName}: left as it is (no env file given)"`
    : `# kubectl apply says "configured" even when nothing changed (seen on v1.34): the resourceVersion tells
secret_version() { kubectl -n "$NS" get secret ${q(p.secretName)} -o jsonpath='{.metadata.resourceVersion}' 2>/dev/null || true; }
BEFORE=$(secret_version)
kubectl -n "$NS" create secret generic ${q(p.secretName)} --from-env-file=${q(p.secretEnvFile)} \\
  --dry-run=client -o yaml | kubectl apply -f -
if [ -n "$BEFORE" ] && [ "$(secret_version)" != "$BEFORE" ]; then RESTART=1; fi`
  const previous = p.deployments
    .map((d, i) => `PREV_${i}=$(revision_of ${q(d.namespace)} ${q(d.name)})
echo "${DEPLOY_LINES.previous}${d.namespace}/${d.name} \${PREV_${i}:-none}"`)
    .join("\n")
  const rollouts = p.deployments
    .map((d) => `kubectl -n ${q(d.namespace)} rollout status deployment/${q(d.name)} --timeout=${q(p.rolloutTimeout)} \\
  || FAILED="$FAILED ${d.namespace}/${d.name}"`)
    .join("\n")
  const restarts = p.deployments
    .map((d) => `  kubectl -n ${q(d.namespace)} rollout restart deployment/${q(d.name)}`)
    .join("\n")
  return `#!/usr/bin/env bash
# Generated by .dagger/src/scripts.ts (deployAks).
set -eu
set -o pipefail
NS=${q(p.namespace)}
RESTART=""
REACHED=""
FAILED=""
on_exit() {
  code=$?
  if [ "$code" -ne 0 ] && [ -n "$REACHED" ]; then
    echo "--- deploy failed (exit $code): pods and recent events in $NS"
    kubectl -n "$NS" get pods -o wide || true
    kubectl -n "$NS" get events --sort-by=.lastTimestamp | tail -n 40 || true
  fi
  exit "$code"
}
trap on_exit EXIT
${REVISION_OF}
${rollbackFunction(p.deployments, p.rolloutTimeout)}
kubectl version --client
# the cluster must answer before anything is applied: an unreachable API fails here, with nothing changed
SERVER=$(kubectl config view --minify -o jsonpath='{.clusters[0].cluster.server}' 2>/dev/null || true)
if ! out=$(kubectl version --request-timeout=20s 2>&1); then
  echo "$out" | tail -n 3
  echo "DEPLOY-UNREACHABLE cannot reach the Kubernetes API at \${SERVER:-?}: nothing was applied"
  exit ${DEPLOY_EXIT.unreachable}
fi
REACHED=1
# created only when missing: applying a bare Namespace would drop the overlay's Pod Security labels
# until the overlay is applied again (seen on a real v1.34 API server)
kubectl get namespace "$NS" > /dev/null 2>&1 || kubectl create namespace "$NS"
# the whole overlay must pass the API server's validation and admission before any of it is applied
kubectl apply -k ${q(p.overlayDir)} --dry-run=server > /dev/null
# what a failed rollout (or a failed smoke test after it) returns to
${previous}
${secretBlock}
kubectl apply -k ${q(p.overlayDir)}
if [ -n "$RESTART" ]; then
  echo "secret changed: restarting so pods read it"
${restarts}
fi
${rollouts}
if [ -n "$FAILED" ]; then
  echo "${DEPLOY_LINES.rolloutFailed}\${FAILED# }"
  rollback
  exit ${DEPLOY_EXIT.rolledBack}
fi
echo "deployed"
`
}

export interface RollbackScriptParams {
  deployments: DeploymentRef[]
  /** the revisions the deploy script reported (DEPLOY-PREVIOUS) */
  previous: Revisions
  rolloutTimeout: string
}

/**
 * The rollback script for the kubectl container, run when the smoke test fails after a completed
 * rollout: every Deployment whose revision moved since the deploy started goes back to it
 * (`kubectl rollout undo --to-revision`), and those rollouts are awaited. Exits 0 when rolled back,
 * 5 when a previous revision does not come back.
 */
export function rollbackScript(p: RollbackScriptParams): string {
  checkDeployments(p.deployments)
  const prev = p.deployments.map((d, i) => {
    const r = p.previous[`${d.namespace}/${d.name}`] ?? "none"
    if (r !== "none" && !/^[0-9]{1,9}$/.test(r)) throw new Error(`bad revision "${r}" for ${d.namespace}/${d.name}`)
    return `PREV_${i}=${r === "none" ? '""' : r}`
  }).join("\n")
  return `#!/usr/bin/env bash
# Generated by .dagger/src/scripts.ts (deployAks: rollback after a failed smoke test).
set -eu
set -o pipefail
${REVISION_OF}
${rollbackFunction(p.deployments, p.rolloutTimeout)}
${prev}
rollback
`
}

/** Parses DEPLOY-PREVIOUS lines of the deploy script's output. */
export function previousRevisions(output: string): Revisions {
  const out: Revisions = {}
  for (const line of output.split("\n")) {
    if (!line.startsWith(DEPLOY_LINES.previous)) continue
    const [ref, rev] = line.slice(DEPLOY_LINES.previous.length).trim().split(" ")
    if (ref && rev) out[ref] = rev
  }
  return out
}

/**
 * Builds FerretDB from the Go module proxy. `go install …@version` leaves
 * build/version/version.txt empty and that binary panics at start, so the module is downloaded,
 * copied, given its version file and built (static, CGO off).
 */
export function ferretdbBuildScript(version: string, workDir: string, output: string): string {
  if (!/^v[0-9]+\.[0-9]+\.[0-9]+$/.test(version)) throw new Error(`FerretDB version like v1.24.2 (got "${version}")`)
  const q = shellQuote
  return `set -eu
dir=$(go mod download -json ${q(`github.com/FerretDB/FerretDB@${version}`)} | sed -n 's/^[[:space:]]*"Dir": "\\(.*\\)",$/\\1/p')
test -n "$dir" && test -d "$dir/cmd/ferretdb"
rm -rf ${q(workDir)} && cp -r "$dir" ${q(workDir)} && chmod -R u+w ${q(workDir)} && cd ${q(workDir)}
echo ${q(version)} > build/version/version.txt
CGO_ENABLED=0 go build -o ${q(output)} ./cmd/ferretdb
`
}

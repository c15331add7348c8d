#!/usr/bin/env bash
# A real, disposable one-node Kubernetes v1.34.4 cluster on this machine's Docker engine, built from
# registries' packages only (docs/kubernetes.md "The test cluster"):
#
#   binaries  kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy and etcd
#             v3.6.4 through the wrapper module test/k8s-cluster (go.mod pins k8s.io/kubernetes and its
#             published staging modules); CoreDNS and local-path-provisioner by `go install`; Traefik
#             v3.7.13 (the ingress controller) by test/k8s-cluster/traefik/build.sh; the pause binary
#             compiled from k8s.io/kubernetes's build/pause/linux/pause.c
#   node      one container from a debootstrapped Debian bookworm (containerd, runc, CNI plugins,
#             iptables) running every component (test/k8s-cluster/node/entrypoint.sh), with the
#             capabilities these VMs allow (they refuse --privileged); its state on named volumes
#   images    loaded into the node's containerd directly (`docker save | ctr images import`), never pulled
#   addons    CoreDNS, local-path-provisioner (default StorageClass), Traefik serving IngressClass
#             `nginx` (test/k8s-cluster/addons/)
#
# Every build step is cached under $MYDOCS_K8S_CACHE (default /var/cache/mydocs-k8s) by a stamp of its
# inputs, and every step is timed on stderr. stdout carries only `export NAME=value` lines (for eval).
#
# Usage: bash scripts/cluster.sh up      build what is missing, create the cluster (or reuse a healthy
#                                        one of the same recipe), load the images, apply the test overlay,
#                                        wait for the rollouts; prints KUBECONFIG, BASE_URL, ...
#        bash scripts/cluster.sh down    delete everything `up` made (container, volumes, run files)
#        bash scripts/cluster.sh build   build the binaries and images only
#        bash scripts/cluster.sh env     print the export lines of a running cluster
#        bash scripts/cluster.sh logs    print the tail of every component's log (diagnostics)
# Environment: MYDOCS_CLUSTER_API_PORT (16443), MYDOCS_CLUSTER_HTTP_PORT (18080): loopback ports of the
# API server and the ingress; MYDOCS_CLUSTER_OVERLAY (deploy/k8s/overlays/k3d): the overlay `up` applies;
# MYDOCS_CLUSTER_KEEP=1: a failed `up` leaves the cluster for inspection (default: deleted).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO="$PWD"

K8S_VERSION="v1.34.4"
COREDNS_VERSION="v1.12.4"
LOCAL_PATH_VERSION="v0.0.30"
PAUSE_VERSION="3.10.1"
CACHE="${MYDOCS_K8S_CACHE:-/var/cache/mydocs-k8s}"
RUN_DIR="${MYDOCS_K8S_RUN:-/run/mydocs-k8s}"
NODE="mydocs-k8s-node"                 # the container
NODE_NAME="mydocs-test-node"           # the Kubernetes node
NODE_IMAGE="mydocs-local/k8s-node:$K8S_VERSION"
VOLUMES=(mydocs-k8s-containerd:/var/lib/containerd mydocs-k8s-kubelet:/var/lib/kubelet mydocs-k8s-etcd:/var/lib/etcd
         mydocs-k8s-etc:/etc/kubernetes mydocs-k8s-local-path:/var/lib/mydocs-local-path)
API_PORT="${MYDOCS_CLUSTER_API_PORT:-16443}"
HTTP_PORT="${MYDOCS_CLUSTER_HTTP_PORT:-18080}"
OVERLAY="${MYDOCS_CLUSTER_OVERLAY:-deploy/k8s/overlays/k3d}"
NAMESPACE="mydocs"
CA_BUNDLE="${MYDOCS_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
LABEL="org.mydocs.k8s-node.recipe"
NODE_PKGS="containerd,runc,containernetworking-plugins,iptables,conntrack,iproute2,ca-certificates,openssl,curl,mount,util-linux,procps,tini,kmod"
# the app images the overlay names, built here from the repository's Dockerfiles
BACKEND_IMAGE="mydocs-backend:cluster-test"
UI_IMAGE="mydocs-ui:cluster-test"
MONGO_IMAGE="mydocs-local/ferretdb:1.24.2"   # scripts/bootstrap-base-images.sh

# the newest kubectl this machine has within one minor version of the server (the Cloud SDK's
# versioned binaries when present; the plain `kubectl` otherwise)
KUBECTL="${KUBECTL:-$(ls -1 /usr/lib/google-cloud-sdk/bin/kubectl.1.3[345] 2>/dev/null | sort -V | tail -n1)}"
KUBECTL="${KUBECTL:-kubectl}"
log() { echo "cluster: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
timed() { # name command...: runs it, logs its duration
  local name="$1" start=$SECONDS; shift
  "$@"
  log "step $name: $((SECONDS - start)) s"
}
stamp() { { printf '%s\n' "$@"; } | sha256sum | cut -c1-12; }
need_root() { [[ "$(id -u)" == 0 ]] || die "run as root (docker, debootstrap, /run)"; }
need_tools() {
  local c; for c in "$@"; do command -v "$c" >/dev/null || die "'$c' is required (bash .ci/run --provision-only installs it)"; done
}
# shellcheck disable=SC1091  # scripts/lib/build-helpers.sh
source "$REPO/scripts/lib/build-helpers.sh"   # rootfs_tar, go_mod_dir

# ---------------------------------------------------------------- binaries
K8S_LDFLAGS="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 \
-X k8s.io/component-base/version.gitMinor=34 -X k8s.io/component-base/version.gitTreeState=clean \
-X k8s.io/component-base/version.buildDate=1970-01-01T00:00:00Z -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION \
-X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=34"
K8S_STAMP="$(cd "$REPO/test/k8s-cluster" && stamp "$K8S_VERSION" "$K8S_LDFLAGS" "$(sha256sum go.mod go.sum)")"
BIN_DIR="$CACHE/bin-$K8S_VERSION-$K8S_STAMP"
K8S_BINS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy etcd)
build_k8s() {
  local b missing=0
  for b in "${K8S_BINS[@]}"; do [[ -x "$BIN_DIR/$b" ]] || missing=1; done
  [[ $missing == 0 ]] && { log "kubernetes $K8S_VERSION binaries up to date ($BIN_DIR)"; return 0; }
  need_tools go
  mkdir -p "$BIN_DIR.tmp"
  log "building kubernetes $K8S_VERSION + etcd (first time: ~20-30 min on 2 cores; log $CACHE/build-k8s.log)"
  (cd "$REPO/test/k8s-cluster" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "$K8S_LDFLAGS" -o "$BIN_DIR.tmp/" \
     k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler \
     k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy go.etcd.io/etcd/server/v3) >"$CACHE/build-k8s.log" 2>&1 \
    || { tail -n 30 "$CACHE/build-k8s.log" >&2; die "building kubernetes failed (log $CACHE/build-k8s.log)"; }
  mv "$BIN_DIR.tmp/server" "$BIN_DIR.tmp/etcd"   # go build names it after go.etcd.io/etcd/server/v3
  rm -rf "$BIN_DIR"; mv "$BIN_DIR.tmp" "$BIN_DIR"
}

ADDON_STAMP="$(stamp "$COREDNS_VERSION" "$LOCAL_PATH_VERSION" "$PAUSE_VERSION" rev1)"
ADDON_BIN="$CACHE/addons-$ADDON_STAMP"
build_addons() {
  [[ -x "$ADDON_BIN/coredns" && -x "$ADDON_BIN/local-path-provisioner" && -x "$ADDON_BIN/pause" ]] \
    && { log "addon binaries up to date ($ADDON_BIN)"; return 0; }
  need_tools go gcc
  mkdir -p "$ADDON_BIN.tmp"
  log "building CoreDNS $COREDNS_VERSION and local-path-provisioner $LOCAL_PATH_VERSION (first time: a few minutes)"
  local m
  for m in "github.com/coredns/coredns@$COREDNS_VERSION" "github.com/rancher/local-path-provisioner@$LOCAL_PATH_VERSION"; do
    (cd /tmp && CGO_ENABLED=0 GOBIN="$ADDON_BIN.tmp" GOFLAGS=-mod=mod go install -trimpath -ldflags "-s -w" "$m") \
      >>"$CACHE/build-addons.log" 2>&1 || { tail -n 30 "$CACHE/build-addons.log" >&2; die "building $m failed"; }
  done
  # the sandbox ("pause") container's process, as kubernetes builds it: a static C binary
  local k8s_src; k8s_src="$(go_mod_dir "k8s.io/kubernetes@$K8S_VERSION")"
  gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_VERSION-mydocs" -o "$ADDON_BIN.tmp/pause" "$k8s_src/build/pause/linux/pause.c"
  strip "$ADDON_BIN.tmp/pause"
  rm -rf "$ADDON_BIN"; mv "$ADDON_BIN.tmp" "$ADDON_BIN"
}

TRAEFIK_STAMP="$(cd "$REPO/test/k8s-cluster/traefik" && stamp "$(find . -path ./traefik-src -prune -o -type f -print | sort | xargs sha256sum)")"
TRAEFIK_BIN="$CACHE/traefik-$TRAEFIK_STAMP"
build_traefik() {
  [[ -x "$TRAEFIK_BIN/traefik" ]] && { log "traefik up to date ($TRAEFIK_BIN)"; return 0; }
  bash "$REPO/test/k8s-cluster/traefik/build.sh" "$TRAEFIK_BIN"
}

# ---------------------------------------------------------------- images
image_recipe() { docker image inspect -f "{{index .Config.Labels \"$LABEL\"}}" "$1" 2>/dev/null || true; }
# scratch_image NAME BINARY USER: an image holding only that static binary as its entrypoint
scratch_image() {
  local name="$1" bin="$2" user="$3" recipe w
  recipe="$(stamp "$(sha256sum "$bin")" "$user")"
  [[ "$(image_recipe "$name")" == "$recipe" ]] && return 0
  w="$(mktemp -d)"; install -m 0755 "$bin" "$w/$(basename "$bin")"; mkdir -m 1777 "$w/tmp"
  tar --numeric-owner --owner=0 --group=0 -C "$w" -cf - . | docker import --change "ENTRYPOINT [\"/$(basename "$bin")\"]" \
    --change "USER $user" --change "LABEL $LABEL=$recipe" - "$name" >/dev/null
  rm -rf "$w"
}
build_node_image() {
  need_tools docker debootstrap
  local tarball recipe w
  tarball="$(rootfs_tar "$CACHE" bookworm "$NODE_PKGS")"
  recipe="$(stamp "$(basename "$tarball")" "$(sha256sum "$REPO/test/k8s-cluster/node/entrypoint.sh")")"
  if [[ "$(image_recipe "$NODE_IMAGE")" != "$recipe" ]]; then
    w="$(mktemp -d)"; mkdir -p "$w/usr/local/bin"
    install -m 0755 "$REPO/test/k8s-cluster/node/entrypoint.sh" "$w/usr/local/bin/k8s-node-entrypoint"
    cp "$tarball" "$w/rootfs.tar"
    tar --numeric-owner --owner=0 --group=0 -C "$w" -rf "$w/rootfs.tar" ./usr/local/bin/k8s-node-entrypoint
    docker import --change 'ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/k8s-node-entrypoint"]' \
      --change "LABEL $LABEL=$recipe" "$w/rootfs.tar" "$NODE_IMAGE" >/dev/null
    rm -rf "$w"
  fi
}
build_images() {
  build_node_image
  scratch_image "mydocs-local/pause:$PAUSE_VERSION" "$ADDON_BIN/pause" 65535
  scratch_image "mydocs-local/coredns:$COREDNS_VERSION" "$ADDON_BIN/coredns" 65532
  scratch_image "mydocs-local/local-path-provisioner:$LOCAL_PATH_VERSION" "$ADDON_BIN/local-path-provisioner" 65532
  scratch_image "mydocs-local/traefik:v3.7.13" "$TRAEFIK_BIN/traefik" 65532
}
# the app images from the repository's Dockerfiles, on the bootstrapped bases (BuildKit, CA as a secret)
build_app_images() {
  local envf; envf="$(mktemp)"
  bash scripts/bootstrap-base-images.sh --env-file "$envf" >/dev/null
  [[ -s "$CA_BUNDLE" ]] || die "CA bundle $CA_BUNDLE is missing or empty (set MYDOCS_CA_BUNDLE)"
  # in a subshell: the file's names (NODE_IMAGE, ...) must not replace this script's
  ( # shellcheck disable=SC1090
    source "$envf"
    DOCKER_BUILDKIT=1 docker build -q -f Dockerfile.backend --build-arg "PYTHON_IMAGE=$PYTHON_IMAGE_NOCA" \
      --secret "id=ca_bundle,src=$CA_BUNDLE" -t "$BACKEND_IMAGE" . >/dev/null || die "building $BACKEND_IMAGE failed"
    DOCKER_BUILDKIT=1 docker build -q -f Dockerfile.ui --build-arg "NODE_IMAGE=$NODE_IMAGE_NOCA" --build-arg "NGINX_IMAGE=$NGINX_IMAGE" \
      --secret "id=ca_bundle,src=$CA_BUNDLE" -t "$UI_IMAGE" . >/dev/null || die "building $UI_IMAGE failed"
  )
  rm -f "$envf"
}
build_all() {
  need_root
  mkdir -p "$CACHE"
  timed kubernetes-binaries build_k8s
  timed addon-binaries build_addons
  timed traefik build_traefik
  timed node-and-addon-images build_images
}

# ---------------------------------------------------------------- the node
kc() { "$KUBECTL" --kubeconfig "$RUN_DIR/kubeconfig" "$@"; }
node_running() { [[ "$(docker inspect -f '{{.State.Running}}' "$NODE" 2>/dev/null)" == true ]]; }
node_recipe() { stamp "$(image_recipe "$NODE_IMAGE")" "$BIN_DIR" "$API_PORT" "$HTTP_PORT"; }
api_ready() { [[ -s "$RUN_DIR/kubeconfig" ]] && kc get --raw /readyz >/dev/null 2>&1; }
start_node() {
  local recipe; recipe="$(node_recipe)"
  if node_running && [[ "$(docker inspect -f "{{index .Config.Labels \"$LABEL\"}}" "$NODE")" == "$recipe" ]] && api_ready; then
    log "node $NODE already running with this recipe: reused"; return 0
  fi
  delete_cluster
  mkdir -p "$RUN_DIR"; chmod 0700 "$RUN_DIR"
  local vols=() v; for v in "${VOLUMES[@]}"; do vols+=(-v "$v"); done
  # what the Dagger engine needs here too (docs/dagger-engine.md): every capability the host allows,
  # no seccomp/AppArmor confinement, all devices; a cgroup namespace of its own so the kubelet's
  # cgroups stay under the container's
  docker run -d --name "$NODE" --hostname "$NODE_NAME" --label "$LABEL=$recipe" --restart no \
    --cap-add ALL --cap-drop SYS_RESOURCE --cgroupns private \
    --security-opt seccomp=unconfined --security-opt apparmor=unconfined --security-opt systempaths=unconfined \
    --device-cgroup-rule 'c *:* rmw' --device-cgroup-rule 'b *:* rmw' \
    "${vols[@]}" -v "$BIN_DIR:/opt/k8s/bin:ro" \
    -p "127.0.0.1:$API_PORT:6443" -p "127.0.0.1:$HTTP_PORT:8000" \
    -e "NODE_NAME=$NODE_NAME" -e "PAUSE_IMAGE=docker.io/mydocs-local/pause:$PAUSE_VERSION" \
    "$NODE_IMAGE" >/dev/null
  local _; for _ in $(seq 240); do
    docker exec "$NODE" test -e /run/k8s-node/started 2>/dev/null && break
    node_running || break
    sleep 0.5
  done
  docker exec "$NODE" test -e /run/k8s-node/started 2>/dev/null || { show_logs; die "the node's components did not start"; }
  write_kubeconfig
  for _ in $(seq 120); do api_ready && break; sleep 0.5; done
  api_ready || { show_logs; die "the API server is not ready"; }
  log "node $NODE up: API https://127.0.0.1:$API_PORT"
}
write_kubeconfig() {
  local f
  for f in ca.crt admin.crt admin.key; do docker exec "$NODE" cat "/etc/kubernetes/pki/$f" > "$RUN_DIR/$f"; done
  chmod 0600 "$RUN_DIR"/admin.key
  rm -f "$RUN_DIR/kubeconfig"
  kc config set-cluster mydocs-test --server "https://127.0.0.1:$API_PORT" --certificate-authority "$RUN_DIR/ca.crt" --embed-certs >/dev/null
  kc config set-credentials mydocs-test-admin --client-certificate "$RUN_DIR/admin.crt" --client-key "$RUN_DIR/admin.key" --embed-certs >/dev/null
  kc config set-context mydocs-test --cluster mydocs-test --user mydocs-test-admin >/dev/null
  kc config use-context mydocs-test >/dev/null
  chmod 0600 "$RUN_DIR/kubeconfig"; rm -f "$RUN_DIR/admin.key" "$RUN_DIR/admin.crt"
  # the same credentials at the node's own address, for containers on this Docker engine (the Dagger
  # engine's): the API server's certificate names that address too
  sed "s#server: https://127.0.0.1:$API_PORT#server: https://$(node_ip):6443#" "$RUN_DIR/kubeconfig" > "$RUN_DIR/kubeconfig-internal"
  chmod 0600 "$RUN_DIR/kubeconfig-internal"
}
node_ip() { docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$NODE"; }
wait_node_ready() {
  # `kubectl wait` fails at once on a node not registered yet: wait for the kubelet to register it first
  local _; for _ in $(seq 120); do kc get node "$NODE_NAME" >/dev/null 2>&1 && break; sleep 1; done
  kc wait --for=condition=Ready "node/$NODE_NAME" --timeout=120s >/dev/null 2>&1 \
    || { kc describe node "$NODE_NAME" >&2 || true; show_logs; die "node $NODE_NAME did not become Ready"; }
}
# load_images IMAGE...: docker save | ctr import into the node's containerd (namespace k8s.io)
load_images() {
  docker save "$@" | docker exec -i "$NODE" ctr -n k8s.io images import --no-unpack=false - >/dev/null \
    || die "loading images into the node failed: $*"
}
# the overlay names the app images mydocs-backend:latest, mydocs-ui:latest, mydocs-test-mongo:latest
tag_in_node() { docker exec "$NODE" ctr -n k8s.io images tag --force "$1" "$2" >/dev/null; }
load_all_images() {
  load_images "mydocs-local/pause:$PAUSE_VERSION" "mydocs-local/coredns:$COREDNS_VERSION" \
    "mydocs-local/local-path-provisioner:$LOCAL_PATH_VERSION" "mydocs-local/traefik:v3.7.13" "$NODE_IMAGE" \
    "$BACKEND_IMAGE" "$UI_IMAGE" "$MONGO_IMAGE"
  tag_in_node "docker.io/library/$BACKEND_IMAGE" docker.io/library/mydocs-backend:latest
  tag_in_node "docker.io/library/$UI_IMAGE" docker.io/library/mydocs-ui:latest
  tag_in_node "docker.io/$MONGO_IMAGE" docker.io/library/mydocs-test-mongo:latest
}
rollout() { # namespace deployment...
  local ns="$1" d; shift
  for d in "$@"; do
    kc -n "$ns" rollout status "deployment/$d" --timeout=180s >&2 \
      || { kc -n "$ns" get pods -o wide >&2 || true; kc -n "$ns" describe pods >&2 || true; die "deployment $ns/$d did not roll out"; }
  done
}
apply_addons() {
  kc apply -f "$REPO/test/k8s-cluster/addons/" >/dev/null
  rollout kube-system coredns
  rollout local-path-storage local-path-provisioner
  rollout ingress-traefik traefik
}
apply_overlay() {
  kc apply -k "$REPO/$OVERLAY" >/dev/null
  rollout "$NAMESPACE" mongo backend ui
}
wait_ingress() {
  local _; for _ in $(seq 120); do
    curl -fsS -o /dev/null "http://127.0.0.1:$HTTP_PORT/health/ready" 2>/dev/null && return 0
    sleep 0.5
  done
  curl -sS -i "http://127.0.0.1:$HTTP_PORT/health/ready" >&2 || true
  die "the Ingress does not answer /health/ready on http://127.0.0.1:$HTTP_PORT"
}
print_env() {
  echo "export KUBECONFIG=$RUN_DIR/kubeconfig"
  echo "export BASE_URL=http://127.0.0.1:$HTTP_PORT"
  echo "export MYDOCS_CLUSTER_NODE=$NODE"
  echo "export MYDOCS_CLUSTER_NAMESPACE=$NAMESPACE"
  # BASE_URL again, for vitest (Vite overwrites BASE_URL inside its workers)
  echo "export MYDOCS_CLUSTER_URL=http://127.0.0.1:$HTTP_PORT"
  # what the overlay names -> the local image loaded under that name
  echo "export MYDOCS_CLUSTER_IMAGES=mydocs-backend:latest=$BACKEND_IMAGE,mydocs-ui:latest=$UI_IMAGE,mydocs-test-mongo:latest=$MONGO_IMAGE"
  echo "export KUBECTL=$KUBECTL"
  # the API server and the Ingress as containers on this Docker engine reach them
  echo "export MYDOCS_CLUSTER_INTERNAL_KUBECONFIG=$RUN_DIR/kubeconfig-internal"
  echo "export MYDOCS_CLUSTER_INTERNAL_URL=http://$(node_ip):8000"
}
show_logs() {
  local c
  echo "----- container $NODE: $(docker inspect -f '{{.State.Status}} (exit {{.State.ExitCode}})' "$NODE" 2>&1)" >&2
  docker logs --tail 20 "$NODE" >&2 2>&1 || true
  for c in node containerd etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy; do
    echo "----- $c (last 25 lines)" >&2
    docker exec "$NODE" tail -n 25 "/var/log/k8s/$c.log" >&2 2>/dev/null || true
  done
}
delete_cluster() {
  docker rm -f "$NODE" >/dev/null 2>&1 || true
  local v; for v in "${VOLUMES[@]}"; do docker volume rm -f "${v%%:*}" >/dev/null 2>&1 || true; done
  rm -rf "$RUN_DIR"
}

[[ "${BASH_SOURCE[0]}" == "$0" ]] || return 0   # sourced (tests): functions only
cmd="${1:-}"
case "$cmd" in
  build) build_all ;;
  up)
    t0=$SECONDS
    need_root; need_tools docker kubectl curl
    [[ "${MYDOCS_CLUSTER_KEEP:-0}" == 1 ]] || trap 'rc=$?; [[ $rc == 0 ]] || { log "up failed: deleting the cluster (MYDOCS_CLUSTER_KEEP=1 keeps it)"; delete_cluster; }' EXIT
    build_all
    timed app-images build_app_images
    timed node start_node
    timed node-ready wait_node_ready
    timed load-images load_all_images
    timed addons apply_addons
    timed overlay apply_overlay
    timed ingress wait_ingress
    log "cluster up in $((SECONDS - t0)) s ($OVERLAY applied; BASE_URL http://127.0.0.1:$HTTP_PORT)"
    trap - EXIT
    print_env
    ;;
  down) need_root; delete_cluster; log "cluster deleted" ;;
  env) api_ready || die "no cluster is running (bash scripts/cluster.sh up)"; print_env ;;
  logs) show_logs ;;
  *) echo "usage: bash scripts/cluster.sh up|down|build|env|logs" >&2; exit 2 ;;
esac

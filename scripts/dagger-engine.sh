#!/usr/bin/env bash
# A real Dagger engine v0.21.8 on this machine's Docker engine, built from registries' packages only:
#
#   binaries   the Go-proxy copy of github.com/dagger/dagger@v0.21.8, edited by
#              test/dagger-engine/edit-dagger-source.py, built through the wrapper module test/dagger-engine
#              (dagger-engine, dagger-init, dial-stdio, dnsname) + our SDK session binary
#              (mydocs-dagger-session: the `session` command the SDKs spawn; the full CLI cannot be built here)
#   runc       github.com/opencontainers/runc from the Go proxy (cgo, seccomp, static-pie)
#   cni        github.com/containernetworking/plugins from the Go proxy (bridge, loopback, firewall, host-local)
#   image      debootstrap bookworm minbase + the engine's packages, the binaries above, the machine's CA
#              bundle (the engine injects it into every exec), an entrypoint remounting /sys and cgroups rw
#   registry   Debian's docker-registry on :5000 serving stand-ins for the images the module and the
#              Dockerfiles name (bootstrapped from Debian by scripts/bootstrap-base-images.sh), configured in
#              the engine as the mirror of docker.io, ghcr.io and registry.k8s.io — a TEST HARNESS ONLY: these
#              stand-ins never get an official name outside this private registry
#   engine     a container with the capabilities these VMs allow (--privileged where the host allows it)
#
# Every step is cached under $MYDOCS_DAGGER_CACHE (default /var/cache/mydocs-dagger) by a stamp of its
# inputs and timed on stderr. stdout carries only `export NAME=value` lines (for eval).
#
# Usage: bash scripts/dagger-engine.sh up      build what is missing, start (or reuse) engine + registry
#        bash scripts/dagger-engine.sh down    stop and remove the engine container and the registry
#        bash scripts/dagger-engine.sh build   build everything, start nothing
#        bash scripts/dagger-engine.sh env     print the export lines of a running engine
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"

DAGGER_VERSION="v0.21.8"
RUNC_VERSION="v1.4.2"
CNI_VERSION="v1.9.0"
GO_MIN="1.26.1"                        # dagger v0.21.8's go.mod
CACHE="${MYDOCS_DAGGER_CACHE:-/var/cache/mydocs-dagger}"
RUN_DIR="${MYDOCS_DAGGER_RUN:-/run/mydocs-dagger}"
CA_BUNDLE="${MYDOCS_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
ENGINE_NAME="mydocs-dagger-engine"
ENGINE_IMAGE="mydocs-local/dagger-engine:$DAGGER_VERSION"
STATE_VOLUME="mydocs-dagger-state"
REGISTRY_PORT="${MYDOCS_DAGGER_REGISTRY_PORT:-5000}"
LABEL="org.mydocs.dagger-engine.recipe"
ENGINE_PKGS="ca-certificates,git,openssh-client,pigz,xz-utils,iptables,nftables,dnsmasq-base,e2fsprogs,ripgrep,sqlite3,util-linux,mount,tini,iproute2,procps,isal,libseccomp2"

log() { echo "dagger-engine: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
timed() { # name command...: runs it, logs its duration
  local name="$1" start=$SECONDS; shift
  "$@"
  log "step $name: $((SECONDS - start)) s"
}
stamp() { { printf '%s\n' "$@"; } | sha256sum | cut -c1-12; }

need_root() { [[ "$(id -u)" == 0 ]] || die "run as root (debootstrap, docker, /run)"; }
need_tools() {
  local c; for c in "$@"; do command -v "$c" >/dev/null || die "'$c' is required (bash .ci/run --provision-only installs it)"; done
}
go_ok() {
  need_tools go
  local v; v="$(go env GOVERSION)"; v="${v#go}"
  [[ "$(printf '%s\n%s\n' "$GO_MIN" "$v" | sort -V | head -n1)" == "$GO_MIN" ]] \
    || die "Go >= $GO_MIN is needed to build dagger $DAGGER_VERSION (found $v)"
}
# shellcheck disable=SC1091  # scripts/lib/build-helpers.sh
source "$REPO/scripts/lib/build-helpers.sh"   # rootfs_tar, go_mod_dir

# ---------------------------------------------------------------- binaries
# the binaries depend on the wrapper module, our packages in it and the source edits only
WRAPPER_STAMP="$(cd "$REPO/test/dagger-engine" && stamp "$DAGGER_VERSION" rev1 \
  "$(find go.mod go.sum edit-dagger-source.py distconsts cmd -type f | sort | xargs sha256sum)")"
BIN_DIR="$CACHE/bin-$DAGGER_VERSION-$WRAPPER_STAMP"
build_binaries() {
  [[ -x "$BIN_DIR/dagger-engine" && -x "$BIN_DIR/mydocs-dagger-session" ]] && { log "binaries $DAGGER_VERSION up to date ($BIN_DIR)"; return 0; }
  go_ok
  local work="$CACHE/build-$WRAPPER_STAMP"
  rm -rf "$work"; mkdir -p "$work"
  cp -r "$REPO/test/dagger-engine/." "$work/"
  local src; src="$(go_mod_dir "github.com/dagger/dagger@$DAGGER_VERSION")"
  cp -r "$src" "$work/dagger-src"; chmod -R u+w "$work/dagger-src"
  python3 "$work/edit-dagger-source.py" "$work/dagger-src"
  log "building dagger $DAGGER_VERSION (first time: ~10-25 min on 2 cores; log $work/build.log)"
  mkdir -p "$work/out"
  if ! (cd "$work" && CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -tags dfexcludepatterns,dfparents \
        -ldflags "-s -w -X github.com/dagger/dagger/engine.Version=$DAGGER_VERSION -X github.com/dagger/dagger/engine.Tag=$DAGGER_VERSION" \
        -o out/ ./cmd/mydocs-dagger-session github.com/dagger/dagger/cmd/engine github.com/dagger/dagger/cmd/init \
        github.com/dagger/dagger/cmd/dialstdio github.com/dagger/dagger/cmd/dnsname) >"$work/build.log" 2>&1; then
    tail -n 40 "$work/build.log" >&2; die "go build of dagger $DAGGER_VERSION failed (log above)"
  fi
  mkdir -p "$BIN_DIR.tmp"
  mv "$work/out/engine" "$BIN_DIR.tmp/dagger-engine"
  mv "$work/out/init" "$BIN_DIR.tmp/dagger-init"
  mv "$work/out/dialstdio" "$BIN_DIR.tmp/dial-stdio"
  mv "$work/out/dnsname" "$BIN_DIR.tmp/dnsname"
  mv "$work/out/mydocs-dagger-session" "$BIN_DIR.tmp/mydocs-dagger-session"
  rm -rf "$BIN_DIR"; mv "$BIN_DIR.tmp" "$BIN_DIR"
  rm -rf "$work"
}

# ---------------------------------------------------------------- runc, CNI plugins
RUNC_BIN="$CACHE/runc-$RUNC_VERSION/runc"
build_runc() {
  [[ -x "$RUNC_BIN" ]] && { log "runc $RUNC_VERSION up to date"; return 0; }
  go_ok
  [[ -e /usr/include/seccomp.h ]] || die "libseccomp-dev is required to build runc (apt-get install libseccomp-dev)"
  local src work="$CACHE/runc-build"; src="$(go_mod_dir "github.com/opencontainers/runc@$RUNC_VERSION")"
  rm -rf "$work"; cp -r "$src" "$work"; chmod -R u+w "$work"
  # as runc's Makefile `static`: seccomp, static-pie
  if ! (cd "$work" && CGO_ENABLED=1 go build -trimpath -buildmode=pie -tags "seccomp urfave_cli_no_docs netgo osusergo" \
        -ldflags "-s -w -X main.version=${RUNC_VERSION#v} -linkmode external -extldflags --static-pie" -o runc .) >"$work.log" 2>&1; then
    tail -n 30 "$work.log" >&2; die "go build of runc $RUNC_VERSION failed (log above)"
  fi
  mkdir -p "$(dirname "$RUNC_BIN")"; mv "$work/runc" "$RUNC_BIN"; rm -rf "$work" "$work.log"
}
CNI_DIR="$CACHE/cni-$CNI_VERSION"
build_cni() {
  [[ -x "$CNI_DIR/bridge" && -x "$CNI_DIR/host-local" ]] && { log "CNI plugins $CNI_VERSION up to date"; return 0; }
  go_ok
  local src work="$CACHE/cni-build"; src="$(go_mod_dir "github.com/containernetworking/plugins@$CNI_VERSION")"
  rm -rf "$work"; cp -r "$src" "$work"; chmod -R u+w "$work"
  mkdir -p "$CNI_DIR.tmp"
  (cd "$work" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$CNI_DIR.tmp/" \
     ./plugins/main/bridge ./plugins/main/loopback ./plugins/meta/firewall ./plugins/ipam/host-local) >"$work.log" 2>&1 \
    || { tail -n 30 "$work.log" >&2; die "go build of the CNI plugins $CNI_VERSION failed (log above)"; }
  rm -rf "$CNI_DIR"; mv "$CNI_DIR.tmp" "$CNI_DIR"; rm -rf "$work" "$work.log"
}

# ---------------------------------------------------------------- engine image
build_rootfs() { need_tools debootstrap; ROOTFS_TAR="$(rootfs_tar "$CACHE" bookworm "$ENGINE_PKGS")"; }

image_recipe() {
  stamp "$ROOTFS_TAR" "$BIN_DIR" "$RUNC_BIN" "$CNI_DIR" rev1 \
    "$(sha256sum "$CA_BUNDLE" "$REPO/test/dagger-engine/engine-entrypoint.sh" | cut -c1-64)"
}
build_image() {
  local recipe; recipe="$(image_recipe)"
  if [[ "$(docker image inspect -f "{{index .Config.Labels \"$LABEL\"}}" "$ENGINE_IMAGE" 2>/dev/null || true)" == "$recipe" ]]; then
    log "$ENGINE_IMAGE up to date"; return 0
  fi
  local root; root="$(mktemp -d "$CACHE/image-XXXX")"
  tar --numeric-owner -C "$root" -xf "$ROOTFS_TAR"
  install -m 0755 "$BIN_DIR/dagger-engine" "$BIN_DIR/dagger-init" "$RUNC_BIN" "$root/usr/local/bin/"
  install -m 0755 "$BIN_DIR/dial-stdio" "$root/usr/bin/dial-stdio"
  ln -sf dial-stdio "$root/usr/bin/buildctl"          # docker-container:// connects through it
  mkdir -p "$root/opt/cni/bin" "$root/etc/dagger" "$root/var/lib/dagger" "$root/run/dagger" \
           "$root/usr/local/share/ca-certificates" "$root/usr/local/share/dagger/content"
  install -m 0755 "$CNI_DIR"/* "$BIN_DIR/dnsname" "$root/opt/cni/bin/"
  # the engine relinks /usr/bin/iptables* to these; Debian keeps them in /usr/sbin
  local x; for x in xtables-legacy-multi xtables-nft-multi; do ln -sf "/usr/sbin/$x" "$root/usr/bin/$x"; done
  # the engine injects these CAs into every exec (this machine's egress proxy needs them)
  install -m 0644 "$CA_BUNDLE" "$root/usr/local/share/ca-certificates/mydocs-host-ca-bundle.crt"
  install -m 0755 "$REPO/test/dagger-engine/engine-entrypoint.sh" "$root/usr/local/bin/engine-entrypoint.sh"
  tar --numeric-owner -C "$root" -c . | docker import \
    --change "LABEL $LABEL=$recipe" \
    --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    --change 'ENTRYPOINT ["/usr/local/bin/engine-entrypoint.sh"]' \
    --change 'VOLUME /var/lib/dagger' - "$ENGINE_IMAGE" >/dev/null
  rm -rf "$root"
  log "imported $ENGINE_IMAGE ($(docker image inspect -f '{{.Size}}' "$ENGINE_IMAGE" | awk '{printf "%d MB", $1/1e6}'))"
}

build_all() {
  need_root; need_tools docker python3 tar sha256sum
  docker info >/dev/null 2>&1 || die "no Docker engine answers (start dockerd first; .ci/run does)"
  mkdir -p "$CACHE"
  timed binaries build_binaries
  timed runc build_runc
  timed cni build_cni
  timed rootfs build_rootfs
  timed image build_image
}

# ---------------------------------------------------------------- registry with stand-ins
# the host as containers on Docker's default bridge see it (the engine reaches the registry there)
HOST_IP="$(ip -4 -o addr show docker0 2>/dev/null | awk '{sub(/\/.*/, "", $4); print $4; exit}')"
HOST_IP="${HOST_IP:-172.17.0.1}"
REGISTRY="$HOST_IP:$REGISTRY_PORT"
registry_up() {
  need_tools docker-registry
  if curl -fsS "http://127.0.0.1:$REGISTRY_PORT/v2/" >/dev/null 2>&1; then log "registry on :$REGISTRY_PORT answers"; else
    mkdir -p "$RUN_DIR" "$CACHE/registry"
    cat >"$RUN_DIR/registry.yml" <<EOF
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: $CACHE/registry}, delete: {enabled: true}}
http: {addr: "0.0.0.0:$REGISTRY_PORT"}
EOF
    nohup docker-registry serve "$RUN_DIR/registry.yml" >"$RUN_DIR/registry.log" 2>&1 &
    echo $! >"$RUN_DIR/registry.pid"
    local _; for _ in $(seq 30); do curl -fsS "http://127.0.0.1:$REGISTRY_PORT/v2/" >/dev/null 2>&1 && break; sleep 0.5; done
    curl -fsS "http://127.0.0.1:$REGISTRY_PORT/v2/" >/dev/null || { tail -n 20 "$RUN_DIR/registry.log" >&2; die "registry did not start"; }
    log "registry started on :$REGISTRY_PORT (storage $CACHE/registry)"
  fi
  timed stand-ins bash "$REPO/test/dagger-engine/stand-ins.sh" "127.0.0.1:$REGISTRY_PORT"
}

# ---------------------------------------------------------------- engine container
engine_config() {
  mkdir -p "$RUN_DIR"
  # buildkitd.toml format; the mirror serves docker.io's library/* and the other registries' paths as-is
  cat >"$RUN_DIR/engine.toml" <<EOF
debug = false
insecure-entitlements = ["security.insecure", "network.host"]

[registry."docker.io"]
  mirrors = ["$REGISTRY"]
[registry."ghcr.io"]
  mirrors = ["$REGISTRY"]
[registry."registry.k8s.io"]
  mirrors = ["$REGISTRY"]
[registry."$REGISTRY"]
  http = true
  insecure = true
EOF
}
engine_running() { [[ "$(docker inspect -f '{{.State.Running}}' "$ENGINE_NAME" 2>/dev/null || true)" == true ]]; }
engine_up() {
  # the running engine is reused only if it runs this image with this configuration
  engine_config
  local recipe; recipe="$(docker image inspect -f "{{index .Config.Labels \"$LABEL\"}}" "$ENGINE_IMAGE")-$(sha256sum "$RUN_DIR/engine.toml" | cut -c1-8)"
  if engine_running && [[ "$(docker inspect -f "{{index .Config.Labels \"$LABEL\"}}" "$ENGINE_NAME")" == "$recipe" ]] \
     && [[ -S "$RUN_DIR/sock/engine.sock" ]]; then
    log "engine $ENGINE_NAME already running: reused"; return 0
  fi
  docker rm -f "$ENGINE_NAME" >/dev/null 2>&1 || true
  mkdir -p "$RUN_DIR/sock"; rm -f "$RUN_DIR/sock/engine.sock"
  local common=(-d --name "$ENGINE_NAME" --label "$LABEL=$recipe" --restart no
    -v "$STATE_VOLUME:/var/lib/dagger" -v "$RUN_DIR/sock:/run/dagger" -v "$RUN_DIR/engine.toml:/etc/dagger/engine.toml:ro")
  # --privileged first; these VMs refuse it (their bounding set lacks CAP_SYS_RESOURCE), so then every
  # other capability, no seccomp/AppArmor confinement, all devices, and /sys + cgroups remounted rw by
  # the entrypoint
  if docker run "${common[@]}" --privileged "$ENGINE_IMAGE" --config /etc/dagger/engine.toml >/dev/null 2>"$RUN_DIR/run.err" \
     && sleep 2 && engine_running; then
    log "engine started --privileged"
  else
    docker rm -f "$ENGINE_NAME" >/dev/null 2>&1 || true
    log "--privileged refused here ($(head -c 200 "$RUN_DIR/run.err" | tr '\n' ' ')); starting with explicit capabilities"
    docker run "${common[@]}" --cap-add ALL --cap-drop SYS_RESOURCE \
      --security-opt seccomp=unconfined --security-opt apparmor=unconfined --security-opt systempaths=unconfined \
      --device-cgroup-rule 'c *:* rmw' --device-cgroup-rule 'b *:* rmw' \
      "$ENGINE_IMAGE" --config /etc/dagger/engine.toml >/dev/null
  fi
  local _; for _ in $(seq 120); do
    [[ -S "$RUN_DIR/sock/engine.sock" ]] && break
    engine_running || break
    sleep 0.5
  done
  [[ -S "$RUN_DIR/sock/engine.sock" ]] || { docker logs --tail 40 "$ENGINE_NAME" >&2 || true; die "engine did not open its socket"; }
  log "engine $ENGINE_NAME up (socket $RUN_DIR/sock/engine.sock)"
}
print_env() {
  echo "export _EXPERIMENTAL_DAGGER_RUNNER_HOST=unix://$RUN_DIR/sock/engine.sock"
  echo "export _EXPERIMENTAL_DAGGER_CLI_BIN=$BIN_DIR/mydocs-dagger-session"
  echo "export MYDOCS_DAGGER_REGISTRY=$REGISTRY"
  echo "export DO_NOT_TRACK=1"
  echo "export DAGGER_NO_UPDATE_CHECK=1"
}

cmd="${1:-}"
case "$cmd" in
  build) build_all ;;
  up)
    t0=$SECONDS
    build_all
    timed registry registry_up
    timed engine engine_up
    log "up in $((SECONDS - t0)) s"
    print_env ;;
  env)
    engine_running || die "no engine running (bash scripts/dagger-engine.sh up)"
    print_env ;;
  down)
    if docker rm -f "$ENGINE_NAME" >/dev/null 2>&1; then log "engine removed"; else log "no engine container"; fi
    if [[ -s "$RUN_DIR/registry.pid" ]] && kill "$(cat "$RUN_DIR/registry.pid")" 2>/dev/null; then log "registry stopped"; fi
    rm -f "$RUN_DIR/registry.pid" "$RUN_DIR/sock/engine.sock" ;;
  *) echo "usage: bash scripts/dagger-engine.sh up|down|build|env" >&2; exit 2 ;;
esac

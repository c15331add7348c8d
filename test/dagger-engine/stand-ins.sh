#!/usr/bin/env bash
# Pushes stand-ins for every image reference the Dagger module and the Dockerfiles name into the private
# test registry REGISTRY (host:port), under the paths a registry mirror is asked for: docker.io's official
# images as library/<name>, other registries' images under their own paths. TEST HARNESS ONLY: the
# stand-ins are built from Debian (no container registry is reachable here) and get these names nowhere
# but in this private registry, which only the test engine uses as its mirror.
#
#   reference (module / Dockerfiles)    stand-in
#   python:3.13-slim                    mydocs-local/python:3.13-trixie-noca (scripts/bootstrap-base-images.sh;
#                                       like the official image, without this machine's CA: the engine
#                                       installs that into every exec, Dockerfile RUN steps included)
#   node:22-alpine                      mydocs-local/node:22-trixie-noca (Debian, not Alpine: no apk)
#   node:22-bookworm-slim               mydocs-local/node:22-trixie-noca (trixie, not bookworm)
#   nginx:1.27-alpine                   mydocs-local/nginx:bookworm     (Debian's nginx-light 1.22)
#   debian:12.11-slim                   debootstrap bookworm minbase + ca-certificates
#   golang:1.26.8-bookworm              the above + this machine's Go toolchain (/usr/local/go)
#   registry.k8s.io/kubectl:v1.32.5     FROM scratch + /bin/kubectl (this machine's kubectl 1.32, v1.32.5)
#   ghcr.io/k3d-io/k3d:5.8.3-dind       bookworm + Debian's docker.io + k3d v5.8.3 (Go proxy) + kubectl
#                                       (Debian, not Alpine: its e2e step's apk would fail; never reached
#                                       here, since k3s itself cannot be had)
# Usage: stand-ins.sh REGISTRY     (run by scripts/dagger-engine.sh up)
set -euo pipefail
REGISTRY="${1:?usage: stand-ins.sh REGISTRY}"
CACHE="${MYDOCS_DAGGER_CACHE:-/var/cache/mydocs-dagger}"
NS="${MYDOCS_LOCAL_NAMESPACE:-mydocs-local}"
K3D_VERSION="v5.8.3"
KUBECTL_BIN="${MYDOCS_KUBECTL_1_32:-/usr/lib/google-cloud-sdk/bin/kubectl.1.32}"
GOROOT_HOST="$(go env GOROOT)"
GO_VERSION="$(go env GOVERSION)"; GO_VERSION="${GO_VERSION#go}"
LABEL="org.mydocs.stand-in.recipe"

log() { echo "stand-ins: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
stamp() { printf '%s\n' "$@" | sha256sum | cut -c1-12; }
current() { docker image inspect -f "{{index .Config.Labels \"$LABEL\"}}" "$1" 2>/dev/null || true; }

# shellcheck disable=SC1091  # scripts/lib/build-helpers.sh
source "$(dirname "$0")/../../scripts/lib/build-helpers.sh"   # rootfs_tar, go_mod_dir

import_standin() { # image recipe tarball overlay_dir change...
  local image="$1" recipe="$2" tarball="$3" overlay="$4"; shift 4
  [[ "$(current "$image")" == "$recipe" ]] && return 0
  local root args=(--change "LABEL $LABEL=$recipe") c
  root="$(mktemp -d "$CACHE/standin-img-XXXX")"
  [[ -n "$tarball" ]] && tar --numeric-owner -C "$root" -xf "$tarball"
  [[ -n "$overlay" ]] && cp -a "$overlay/." "$root/"
  for c in "$@"; do args+=(--change "$c"); done
  tar --numeric-owner -C "$root" -c . | docker import "${args[@]}" - "$image" >/dev/null
  rm -rf "$root"
  log "built $image"
}

PATH_ENV="ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# debian slim
base_tar="$(rootfs_tar "$CACHE" bookworm ca-certificates)"
import_standin "$NS/standin-debian:12-slim" "$(stamp "$base_tar" rev1)" "$base_tar" "" "$PATH_ENV" 'CMD ["bash"]'

# golang on Debian: this machine's toolchain
golang_image="$NS/standin-golang:$GO_VERSION-bookworm"
golang_recipe="$(stamp "$base_tar" "$GO_VERSION" rev1)"
if [[ "$(current "$golang_image")" != "$golang_recipe" ]]; then
  ov="$(mktemp -d)"; mkdir -p "$ov/usr/local" "$ov/go/bin"; cp -a "$GOROOT_HOST" "$ov/usr/local/go"
  import_standin "$golang_image" "$golang_recipe" "$base_tar" "$ov" \
    "ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    "ENV GOPATH=/go" "ENV GOLANG_VERSION=$GO_VERSION" "WORKDIR /go" 'CMD ["bash"]'
  rm -rf "$ov"
fi

# kubectl, as registry.k8s.io/kubectl (static binary at /bin/kubectl, entrypoint kubectl)
[[ -x "$KUBECTL_BIN" ]] || die "no kubectl 1.32 binary at $KUBECTL_BIN (set MYDOCS_KUBECTL_1_32)"
KUBECTL_VERSION="$("$KUBECTL_BIN" version --client -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["clientVersion"]["gitVersion"])')"
ov="$(mktemp -d)"; mkdir -p "$ov/bin"; install -m 0755 "$KUBECTL_BIN" "$ov/bin/kubectl"
import_standin "$NS/standin-kubectl:$KUBECTL_VERSION" "$(stamp "$(sha256sum "$KUBECTL_BIN")" rev1)" "" "$ov" \
  'ENTRYPOINT ["/bin/kubectl"]'
rm -rf "$ov"

# k3d's dind image on Debian
K3D_BIN="$CACHE/k3d-$K3D_VERSION/k3d"
if [[ ! -x "$K3D_BIN" ]]; then
  log "building k3d $K3D_VERSION from the Go module proxy (once)"
  mkdir -p "$(dirname "$K3D_BIN")"
  # in its own module context (its go.mod's replace directives apply); `go install …@v` asks the proxy
  # for the version list, which it refuses for k3d
  src="$(go_mod_dir "github.com/k3d-io/k3d/v5@$K3D_VERSION")"
  rm -rf "$CACHE/k3d-build"; cp -r "$src" "$CACHE/k3d-build"; chmod -R u+w "$CACHE/k3d-build"
  (cd "$CACHE/k3d-build" && GOWORK=off CGO_ENABLED=0 go build -trimpath -o "$K3D_BIN" \
    -ldflags "-s -w -X github.com/k3d-io/k3d/v5/version.Version=$K3D_VERSION" .) || die "go build of k3d $K3D_VERSION failed"
  rm -rf "$CACHE/k3d-build"
fi
dind_tar="$(rootfs_tar "$CACHE" bookworm ca-certificates,docker.io,iptables,curl,procps,kmod,e2fsprogs,xz-utils)"
ov="$(mktemp -d)"; mkdir -p "$ov/usr/local/bin"
install -m 0755 "$K3D_BIN" "$ov/usr/local/bin/k3d"; install -m 0755 "$KUBECTL_BIN" "$ov/usr/local/bin/kubectl"
ln -sf /usr/sbin/xtables-legacy-multi "$ov/usr/local/bin/iptables"   # docker:dind runs legacy iptables
import_standin "$NS/standin-k3d:5.8.3-dind" "$(stamp "$dind_tar" "$(sha256sum "$K3D_BIN" "$KUBECTL_BIN")" rev1)" "$dind_tar" "$ov" \
  "$PATH_ENV" 'CMD ["bash"]'
rm -rf "$ov"

# reference in the module / Dockerfiles -> local image
PAIRS=(
  "library/python:3.13-slim=$NS/python:3.13-trixie-noca"
  "library/node:22-alpine=$NS/node:22-trixie-noca"
  "library/node:22-bookworm-slim=$NS/node:22-trixie-noca"
  "library/nginx:1.27-alpine=$NS/nginx:bookworm"
  "library/debian:12.11-slim=$NS/standin-debian:12-slim"
  "library/golang:1.26.8-bookworm=$golang_image"
  "kubectl:v1.32.5=$NS/standin-kubectl:$KUBECTL_VERSION"
  "k3d-io/k3d:5.8.3-dind=$NS/standin-k3d:5.8.3-dind"
)
for pair in "${PAIRS[@]}"; do
  path="${pair%%=*}"; local_image="${pair#*=}"
  docker image inspect "$local_image" >/dev/null 2>&1 || die "$local_image is missing (bash scripts/bootstrap-base-images.sh builds the mydocs-local bases)"
  docker tag "$local_image" "$REGISTRY/$path"
  docker push -q "$REGISTRY/$path" >/dev/null || die "push of $REGISTRY/$path failed"
  docker image rm "$REGISTRY/$path" >/dev/null   # the registry name exists only inside the registry
done
log "${#PAIRS[@]} stand-ins served by $REGISTRY"

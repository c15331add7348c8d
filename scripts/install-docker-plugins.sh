#!/usr/bin/env bash
# Installs the Docker CLI plugins MyDocs' commands use, built from the Go module proxy at pinned versions:
#   docker compose   github.com/docker/compose/v2  (Compose v2: `docker compose --profile local up -d --build`)
#   docker buildx    github.com/docker/buildx      (BuildKit client: `docker build` of Docker >= 23 is buildx)
# into $DOCKER_CLI_PLUGINS_DIR (default /usr/local/lib/docker/cli-plugins, a directory every docker CLI
# searches), after which `docker compose version` and `docker buildx version` answer.
#
# Idempotent and cached: each binary is built once per (version, Go version, arch) into
# $MYDOCS_PLUGINS_CACHE (default /var/cache/mydocs-docker-plugins) beside a stamp file naming what it
# was built from and its sha256; an installed plugin whose stamp matches is kept (a second run takes
# about a second). Both are `go build` of the module source the proxy serves (upstream's go.mod and go.sum as
# they are), CGO off, -trimpath, with the version stamped in as their own Makefiles do.
# Needs: Go >= 1.24 (GOTOOLCHAIN may fetch a newer one through the proxy), root or a writable target.
# Usage: bash scripts/install-docker-plugins.sh [--check]
#   --check: install nothing; verify that `docker compose` (v2, >= 2.20), `docker buildx` and an engine
#   with BuildKit answer (and DOCKER_BUILDKIT is not 0); else exit 1 with one line naming what to install.
#   scripts/test-e2e.sh and test/bench/images_bench.sh start with it.
set -euo pipefail

COMPOSE_VERSION="v2.40.3"
BUILDX_VERSION="v0.29.1"   # the buildx that compose v2.40.3's go.mod requires
DEST="${DOCKER_CLI_PLUGINS_DIR:-/usr/local/lib/docker/cli-plugins}"
CACHE="${MYDOCS_PLUGINS_CACHE:-/var/cache/mydocs-docker-plugins}"

CHECK=0
case "${1:-}" in
  --check) CHECK=1 ;;
  "") ;;
  -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
  *) echo "install-docker-plugins: unknown argument: $1 (usage: [--check])" >&2; exit 2 ;;
esac

log() { echo "install-docker-plugins: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# what an installed plugin reports about itself: the version string, or empty
plugin_version() { # name
  local bin="$DEST/docker-$1"
  [[ -x "$bin" ]] || return 0
  case "$1" in
    compose) "$bin" version --short 2>/dev/null | sed 's/^v*/v/' || true ;;
    buildx) "$bin" version 2>/dev/null | awk '{print $2}' || true ;;
  esac
}
want_version() { case "$1" in compose) echo "$COMPOSE_VERSION" ;; buildx) echo "$BUILDX_VERSION" ;; esac; }

# --check: what MyDocs' commands need from Docker, one line naming what to install when something lacks.
# Any Compose v2 / buildx will do here (Docker Desktop's, Debian's, these); the pinned ones are what CI runs.
COMPOSE_MIN="${MYDOCS_COMPOSE_MIN:-2.20.0}"   # build secrets, `up --wait`, profiles, service_completed_successfully
INSTALL_HINT="run: bash scripts/install-docker-plugins.sh (or install Docker's docker-compose-plugin and docker-buildx-plugin packages)"
version_lt() { [[ "$1" != "$2" && "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" == "$1" ]]; }
if [[ $CHECK == 1 ]]; then
  command -v docker >/dev/null 2>&1 || die "no docker CLI on PATH: install Docker Engine (Debian: apt-get install docker.io)"
  [[ "${DOCKER_BUILDKIT:-}" != 0 ]] || die "DOCKER_BUILDKIT=0 selects the classic builder, which cannot build MyDocs' Dockerfiles (RUN --mount): unset DOCKER_BUILDKIT"
  if ! cv="$(docker compose version --short 2>/dev/null)" || [[ -z "$cv" ]]; then
    v1="$(docker-compose version --short 2>/dev/null || true)"
    [[ "$v1" == 1.* ]] && die "docker-compose $v1 is Compose v1, which MyDocs does not support (its classic builder cannot build the Dockerfiles); Compose v2 (\`docker compose\`) is missing: $INSTALL_HINT"
    die "docker compose (Compose v2) is missing: $INSTALL_HINT"
  fi
  cv="${cv#v}"
  ! version_lt "$cv" "$COMPOSE_MIN" || die "docker compose $cv is too old (MyDocs needs Compose >= $COMPOSE_MIN): $INSTALL_HINT"
  bv="$(docker buildx version 2>/dev/null | awk '{print $2}')" || true
  [[ -n "$bv" ]] || die "docker buildx (the BuildKit client that \`docker build\` and Compose v2 use) is missing: $INSTALL_HINT"
  docker info >/dev/null 2>&1 || die "no Docker engine answers (start dockerd, or point DOCKER_HOST at one)"
  bk="$(docker buildx inspect 2>/dev/null | sed -n 's/^BuildKit version: *//p' | head -n1)"
  [[ -n "$bk" ]] || die "the Docker engine ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo unknown)) offers no BuildKit to buildx: MyDocs needs Docker Engine >= 20.10 (BuildKit built in)"
  log "ok: docker compose $cv, docker buildx $bv, engine BuildKit $bk"
  exit 0
fi

{ mkdir -p "$CACHE" 2>/dev/null && [[ -w "$CACHE" ]]; } || die "cannot write the cache $CACHE (run as root or set MYDOCS_PLUGINS_CACHE)"
{ mkdir -p "$DEST" 2>/dev/null && [[ -w "$DEST" ]]; } || die "cannot write $DEST (run as root or set DOCKER_CLI_PLUGINS_DIR)"

# Go is needed only when a plugin has to be built (a cached or installed one needs none)
GO_VERSION="" ARCH=""
need_go() {
  [[ -z "$GO_VERSION" ]] || return 0
  command -v go >/dev/null 2>&1 || die "'go' is not on PATH (Go >= 1.24 builds docker compose $COMPOSE_VERSION and buildx $BUILDX_VERSION)"
  GO_VERSION="$(go env GOVERSION 2>/dev/null || true)"
  [[ "$GO_VERSION" =~ ^go1\.([0-9]+) ]] || die "cannot read the Go version from 'go env GOVERSION' (got '$GO_VERSION')"
  if (( BASH_REMATCH[1] < 24 )) && [[ "$(go env GOTOOLCHAIN)" == local ]]; then
    die "$GO_VERSION is too old (Go >= 1.24 is needed; or allow GOTOOLCHAIN=auto to fetch one)"
  fi
  ARCH="$(go env GOOS)-$(go env GOARCH)"
}

# build (once) into the cache; the stamp names the inputs and the binary's sha256. Built inside the
# module's own source tree (downloaded through the proxy), i.e. as the main module with upstream's
# go.mod and go.sum: their `exclude` directives make a plain `go install module@version` refuse them.
build_plugin() { # name module version package ldflags -> path of the cached binary
  local name="$1" mod="$2" version="$3" pkg="$4" ldflags="$5"
  need_go
  local bin="$CACHE/docker-$name-$version-$ARCH-$GO_VERSION" stamp_want src
  stamp_want="$mod@$version $pkg $ARCH $GO_VERSION"
  if [[ -x "$bin" && -f "$bin.stamp" ]] && [[ "$(head -n1 "$bin.stamp")" == "$stamp_want" ]] \
     && [[ "$(sed -n 2p "$bin.stamp")" == "$(sha256sum "$bin" | cut -d' ' -f1)" ]]; then
    echo "$bin"; return 0
  fi
  log "building docker-$name $version from the Go module proxy ($mod, $GO_VERSION; once, minutes)"
  src="$(cd "$CACHE" && GOFLAGS=-mod=mod go mod download -json "$mod@$version" 2>&1 | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
  [[ -n "$src" && -f "$src/go.mod" ]] || die "go mod download $mod@$version failed (is the Go module proxy reachable? GOPROXY=$(go env GOPROXY))"
  if ! (cd "$src" && CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" \
        go build -trimpath -ldflags "-s -w $ldflags" -o "$bin.tmp" "$pkg") >"$bin.log" 2>&1; then
    tail -n 20 "$bin.log" >&2
    rm -f "$bin.tmp"
    die "go build of $mod@$version ($pkg) failed (log above; full log $bin.log)"
  fi
  mv "$bin.tmp" "$bin" && rm -f "$bin.log"
  printf '%s\n%s\n' "$stamp_want" "$(sha256sum "$bin" | cut -d' ' -f1)" > "$bin.stamp"
  echo "$bin"
}

install_plugin() { # name module version package ldflags
  local name="$1" version="$3" have
  have="$(plugin_version "$name")"
  if [[ "$have" == "$version" ]]; then log "docker $name $version already in $DEST"; return 0; fi
  local bin; bin="$(build_plugin "$@")"
  install -m 0755 "$bin" "$DEST/docker-$name.tmp" && mv "$DEST/docker-$name.tmp" "$DEST/docker-$name"
  have="$(plugin_version "$name")"
  [[ "$have" == "$version" ]] || die "docker-$name in $DEST reports '${have:-nothing}', not $version"
  log "installed docker $name $version into $DEST"
}

install_plugin compose github.com/docker/compose/v2 "$COMPOSE_VERSION" ./cmd \
  "-X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION"
install_plugin buildx github.com/docker/buildx "$BUILDX_VERSION" ./cmd/buildx \
  "-X github.com/docker/buildx/version.Version=$BUILDX_VERSION -X github.com/docker/buildx/version.Package=github.com/docker/buildx"

# the docker CLI finds them (only when a docker CLI is installed and searches $DEST)
if command -v docker >/dev/null 2>&1 && [[ -z "${DOCKER_CLI_PLUGINS_DIR:-}" ]]; then
  docker compose version >/dev/null 2>&1 || die "'docker compose version' does not answer after the install (is $DEST on the CLI's plugin path?)"
  docker buildx version >/dev/null 2>&1 || die "'docker buildx version' does not answer after the install"
  log "$(docker compose version); $(docker buildx version)"
fi

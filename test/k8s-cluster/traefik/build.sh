#!/usr/bin/env bash
# Builds Traefik v3.7.13 (the test cluster's ingress controller) from the Go module proxy only:
#
#   1. copies this wrapper module (go.mod, go.sum, dynamic-ext, edit-traefik-source.py) to a work dir
#      under $MYDOCS_K8S_CACHE/traefik-build (default /var/cache/mydocs-k8s/traefik-build)
#   2. puts a writable copy of the Go-proxy source of github.com/traefik/traefik/v3@v3.7.13
#      (`go mod download -json`) at ./traefik-src there, and edits it with edit-traefik-source.py
#      (no ACME DNS-01 challenge providers: lego's providers reach modules the proxy does not serve)
#   3. builds OUT_DIR/traefik (CGO_ENABLED=0, -trimpath, stripped, version stamped), `nice -n 19`
#
# Idempotent: an OUT_DIR/traefik built from the same inputs (stamp in OUT_DIR/.traefik-build.stamp) is
# kept. Logs go to stderr only; a failure is one line `traefik-build: ERROR: ...` and a non-zero exit (the
# go build log is kept in the work dir, named in that line). First build ~10 min on 2 busy cores.
#
# Usage: bash test/k8s-cluster/traefik/build.sh OUT_DIR
#    or: source test/k8s-cluster/traefik/build.sh; traefik_build OUT_DIR
# The edited source never leaves the cache: only this directory's own files are committed.

TRAEFIK_BUILD_VERSION="v3.7.13"
TRAEFIK_BUILD_WRAPPER="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

traefik_build() ( # OUT_DIR; a subshell, so that a sourced call cannot leave options or exit the caller
  set -euo pipefail
  log() { echo "traefik-build: $*" >&2; }
  die() { log "ERROR: $*"; exit 1; }
  [[ $# -eq 1 && -n "$1" ]] || die "usage: build.sh OUT_DIR"
  command -v go >/dev/null || die "'go' is required (Go >= 1.26.0, the go directive of traefik $TRAEFIK_BUILD_VERSION)"
  command -v python3 >/dev/null || die "'python3' is required (edit-traefik-source.py)"
  local version="$TRAEFIK_BUILD_VERSION" wrapper="$TRAEFIK_BUILD_WRAPPER"
  local out; mkdir -p "$1" || die "cannot create $1"; out="$(cd "$1" && pwd)"
  local cache="${MYDOCS_K8S_CACHE:-/var/cache/mydocs-k8s}/traefik-build"

  # the inputs: this directory's own files (never a traefik-src left in it) and the Go toolchain
  local stamp
  stamp="$(cd "$wrapper" && { echo "$version"; go env GOVERSION GOOS GOARCH
    find . -path ./traefik-src -prune -o -type f -print | LC_ALL=C sort | xargs sha256sum; } \
    | sha256sum | cut -c1-12)" || die "cannot stamp the wrapper $wrapper"
  if [[ -x "$out/traefik" && "$(cat "$out/.traefik-build.stamp" 2>/dev/null)" == "$stamp" ]] \
     && "$out/traefik" version >/dev/null 2>&1; then
    log "traefik $version up to date ($out/traefik)"; return 0
  fi

  local work="$cache/work-$stamp" start=$SECONDS
  rm -rf "$work"; mkdir -p "$work" || die "cannot create $work"
  { cp -r "$wrapper/." "$work/" && rm -rf "$work/traefik-src"; } || die "cannot copy the wrapper to $work"

  # the Go-proxy copy of the source, from an empty directory (no module of ours in the way)
  local tmp src
  tmp="$(mktemp -d)"
  src="$(cd "$tmp" && GOFLAGS=-mod=mod go mod download -json "github.com/traefik/traefik/v3@$version" 2>"$work/download.log" \
    | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')" || true
  rmdir "$tmp"
  [[ -n "$src" && -f "$src/go.mod" ]] || die "go mod download github.com/traefik/traefik/v3@$version gave no source" \
    "($(tail -n 1 "$work/download.log"); GOPROXY=$(go env GOPROXY))"
  { cp -r "$src" "$work/traefik-src" && chmod -R u+w "$work/traefik-src"; } || die "cannot copy $src to $work/traefik-src"
  python3 "$work/edit-traefik-source.py" "$work/traefik-src" 2>"$work/edit.log" \
    || die "edit-traefik-source.py failed: $(tail -n 1 "$work/edit.log")"

  # the web UI is embedded from webui/static (//go:embed static); the module zip has only its README
  # there: an empty dashboard, which is what we want (the cluster does not enable the API)
  [[ -d "$work/traefik-src/webui/static" ]] || die "traefik-src/webui/static is missing (the webui embed would fail)"

  log "building traefik $version (first time ~10 min on 2 cores; log $work/build.log)"
  mkdir -p "$work/out"
  if ! (cd "$work" && CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false" nice -n 19 go build -trimpath \
        -ldflags "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=$version" \
        -o out/traefik github.com/traefik/traefik/v3/cmd/traefik) >"$work/build.log" 2>&1; then
    die "go build of traefik $version failed: $(grep -v -e '^go: downloading' -e '^#' "$work/build.log" | head -n 1) (log $work/build.log)"
  fi
  local answer
  answer="$("$work/out/traefik" version 2>&1 | sed -n 's/^Version:[[:space:]]*//p')"
  [[ "$answer" == "$version" ]] || die "the built binary answers 'traefik version' with '${answer:-nothing}', not $version"

  rm -f "$out/.traefik-build.stamp"
  { mv -f "$work/out/traefik" "$out/traefik.tmp" && mv -f "$out/traefik.tmp" "$out/traefik"; } || die "cannot install $out/traefik"
  echo "$stamp" >"$out/.traefik-build.stamp"
  rm -rf "$work"
  log "built $out/traefik ($(du -h "$out/traefik" | cut -f1)) in $((SECONDS - start)) s"
)

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  traefik_build "$@"
fi

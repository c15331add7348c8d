# shellcheck shell=bash
# Helpers the build scripts share (sourced; the caller defines log and die).
#   rootfs_tar CACHE SUITE PACKAGES [force] -> path of a cached tarball of a debootstrap minbase rootfs
#   go_mod_dir MODULE@VERSION              -> the module's directory in the Go module cache (downloaded
#                                             through the proxy when missing)
# DEBIAN_MIRROR overrides the mirror.

rootfs_tar() {
  local cache="$1" suite="$2" pkgs="$3" force="${4:-0}" mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}" key tarball dir
  key="$(printf '%s|%s|%s' "$suite" "$pkgs" "$mirror" | sha256sum | cut -c1-12)"
  tarball="$cache/rootfs-$suite-$key.tar"
  if [[ "$force" == 1 || ! -s "$tarball" ]]; then
    mkdir -p "$cache"
    dir="$(mktemp -d "$cache/rootfs-XXXX")"
    log "debootstrap $suite minbase + $pkgs (once; ~1-2 min; cached in $tarball)"
    debootstrap --variant=minbase --include="$pkgs" "$suite" "$dir" "$mirror" >"$dir.log" 2>&1 \
      || { tail -n 30 "$dir.log" >&2; rm -rf "$dir"; die "debootstrap $suite failed (log above)"; }
    # no apt lists, caches or docs in an image
    rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/cache/apt/archives/*.deb \
           "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/info/* "$dir"/var/log/*.log
    tar --numeric-owner -C "$dir" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$dir" "$dir.log"
  fi
  echo "$tarball"
}

go_mod_dir() {
  local dir
  dir="$(cd "${TMPDIR:-/tmp}" && GOFLAGS=-mod=mod go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [[ -n "$dir" && -d "$dir" ]] || die "go mod download $1 gave no directory (is the Go module proxy reachable? GOPROXY=$(go env GOPROXY))"
  echo "$dir"
}

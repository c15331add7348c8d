#!/usr/bin/env bash
# Backend suite: pytest test/backend against real FerretDB, Azurite and a real JWKS server.
# Needs scripts/install-test-services.sh to have run (.ci/run does it); installs .venv itself.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-python.sh
exec .venv/bin/python -m pytest test/backend -p no:cacheprovider "$@"

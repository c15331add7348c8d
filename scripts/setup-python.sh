#!/usr/bin/env bash
# Creates .venv with the machine's Python 3.11 and installs the pinned backend dependencies
# (requirements-test.lock, hash-checked) plus the mydocs package itself in editable mode.
# Idempotent: when the lock files and pyproject.toml are unchanged since the last run it only checks.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3.11}"
VENV=.venv
STAMP="$VENV/.mydocs-setup.sha256"

want="$(cat requirements-test.lock pyproject.toml | sha256sum | cut -d' ' -f1)"
if [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]] \
   && "$VENV/bin/python" -c 'import mydocs' 2>/dev/null; then
  echo "setup-python: .venv up to date"
  exit 0
fi

if ! command -v "$PY" >/dev/null; then
  echo "setup-python: $PY not found (set PYTHON=/path/to/python3.11)" >&2
  exit 1
fi
if [[ ! -x "$VENV/bin/python" ]]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-test.lock
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e .
echo "$want" > "$STAMP"
echo "setup-python: .venv ready ($("$VENV/bin/python" --version))"

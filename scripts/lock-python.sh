#!/usr/bin/env bash
# Regenerates the pinned dependency sets from pyproject.toml (maintainers only; CI never runs it).
#   requirements.lock       runtime dependencies (the image installs exactly these, then the package --no-deps)
#   requirements-test.lock  runtime + the [test] extra (scripts/setup-python.sh)
# Both are universal: valid for Python 3.11 (tests) and 3.13 (image).
set -euo pipefail
cd "$(dirname "$0")/.."
UV="${UV:-uv}"
"$UV" pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes \
  --no-emit-package setuptools -o requirements.lock --custom-compile-command "bash scripts/lock-python.sh"
"$UV" pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes --extra test \
  --no-emit-package setuptools -o requirements-test.lock --custom-compile-command "bash scripts/lock-python.sh"

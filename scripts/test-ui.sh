#!/usr/bin/env bash
# SPA suite (docs/ui.md): install (npm ci when the lockfile changed), vue-tsc type-check, vitest unit
# tests, production build, then the bundle budget (initial JS <= 250 KB gzip, MSAL lazy).
# Any failing step fails the script.
set -euo pipefail
cd "$(dirname "$0")/../mydocs-ui"

stamp=node_modules/.mydocs-lock.sha256
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "test-ui: npm ci (package-lock.json changed or node_modules missing)"
  npm ci --no-audit --no-fund
  echo "$want" > "$stamp"
else
  echo "test-ui: node_modules up to date"
fi

echo "test-ui: type-check (vue-tsc)"
npx --no-install vue-tsc --build

echo "test-ui: unit tests (vitest)"
npx --no-install vitest run

echo "test-ui: production build (vite)"
npx --no-install vite build --logLevel warn

echo "test-ui: bundle budget"
node ../test/bench/ui_bundle_budget.mjs dist

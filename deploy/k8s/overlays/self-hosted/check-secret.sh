#!/usr/bin/env sh
# Checks deploy/k8s/overlays/self-hosted/secret.yml before `kubectl apply -k` (kustomize itself can
# only say "must resolve to a file"). Prints what to do and exits 1 when the file is missing, is not the
# Secret mydocs-secrets, or still has an empty MONGO_URL. Never prints a value from the file.
set -eu
dir="$(cd "$(dirname "$0")" && pwd)"
secret="$dir/secret.yml"
example="$(cd "$dir/../../base" && pwd)/secret.yml.example"
rel="deploy/k8s/overlays/self-hosted/secret.yml"

if [ ! -f "$secret" ]; then
  echo "error: $rel is missing." >&2
  echo "  Create it from the template and fill in your values:" >&2
  echo "    cp deploy/k8s/base/secret.yml.example $rel" >&2
  echo "  (it is gitignored; see deploy/k8s/overlays/self-hosted/README.md)" >&2
  exit 1
fi
if ! grep -Eq '^kind:[[:space:]]*Secret[[:space:]]*$' "$secret" \
   || ! grep -Eq '^[[:space:]]+name:[[:space:]]*"?mydocs-secrets"?[[:space:]]*$' "$secret"; then
  echo "error: $rel must define the Secret named mydocs-secrets (start from $example)." >&2
  exit 1
fi
if grep -Eq '^[[:space:]]+MONGO_URL:[[:space:]]*(""|'"''"')?[[:space:]]*$' "$secret" \
   || ! grep -Eq '^[[:space:]]+MONGO_URL:' "$secret"; then
  echo "error: $rel: MONGO_URL is empty; the backend cannot start without it." >&2
  exit 1
fi
echo "ok: $rel defines mydocs-secrets with MONGO_URL set"

/**
 * Every external image and download the module uses, pinned in one place. Bump deliberately, one at a
 * time; docs/dagger.md lists them. Tool containers share one Debian base (DEBIAN_IMAGE) and take each
 * tool pinned from its own source, so the module depends on no distribution's package manager quirks.
 */

/** The tool base: kubectl, actionlint and the FerretDB build run on it (apt-get where a package is needed). */
export const DEBIAN_IMAGE = "debian:12.11-slim"
/** Builds FerretDB and actionlint from the Go module proxy (Debian-based, so apt-get works in it too). */
export const GOLANG_IMAGE = "golang:1.26.8-bookworm"
/** Node.js for `test` (the README's test command needs Node >= 20 beside Go and Python). */
export const NODE_IMAGE = "node:22-bookworm-slim"
/** kubectl, from the Kubernetes project's own image (a static binary at /bin/kubectl). */
export const KUBECTL_IMAGE = "registry.k8s.io/kubectl:v1.32.5"
export const KUBECTL_BINARY = "/bin/kubectl"
/** k3d with dockerd and kubectl (docker:dind based); runs privileged inside the engine. */
export const K3D_DIND_IMAGE = "ghcr.io/k3d-io/k3d:5.8.3-dind"
/** The k3s node image k3d starts. */
export const K3S_IMAGE = "rancher/k3s:v1.32.3-k3s1"
/** ingress-nginx: the controller the base Ingress (`ingressClassName: nginx`) expects, checksum-pinned. */
export const INGRESS_NGINX_VERSION = "controller-v1.12.1"
export const INGRESS_NGINX_MANIFEST =
  `https://raw.githubusercontent.com/kubernetes/ingress-nginx/${INGRESS_NGINX_VERSION}/deploy/static/provider/cloud/deploy.yaml`
export const INGRESS_NGINX_MANIFEST_SHA256 = "sha256:c6dbb962b7b396369fce700bafe3f789fd25f31ca093d499f7c165dd31b0ecff"
/** FerretDB (SQLite handler): the throwaway MongoDB-wire database of composeUp and the k3d overlay. */
export const FERRETDB_VERSION = "v1.24.2"
/** actionlint: the same version scripts/install-lint-tools.sh installs. */
export const ACTIONLINT_VERSION = "v1.7.12"

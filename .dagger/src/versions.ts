/**
 * Every external image and tool the module uses, pinned in one place. Bump deliberately, one at a
 * time; docs/dagger.md lists them.
 */

/** k3d with dockerd and kubectl (docker:dind based); runs privileged inside the engine. */
export const K3D_DIND_IMAGE = "ghcr.io/k3d-io/k3d:5.8.3-dind"
/** The k3s node image k3d starts. */
export const K3S_IMAGE = "rancher/k3s:v1.32.3-k3s1"
/** ingress-nginx: the controller the base Ingress (`ingressClassName: nginx`) expects. */
export const INGRESS_NGINX_VERSION = "controller-v1.12.1"
export const INGRESS_NGINX_MANIFEST =
  `https://raw.githubusercontent.com/kubernetes/ingress-nginx/${INGRESS_NGINX_VERSION}/deploy/static/provider/cloud/deploy.yaml`
/** kubectl for render/lint/deploy containers (downloaded from dl.k8s.io and checked against its sha256). */
export const KUBECTL_VERSION = "v1.32.3"
export const ALPINE_IMAGE = "alpine:3.21.3"
/** Builds FerretDB and actionlint from the Go module proxy. */
export const GOLANG_IMAGE = "golang:1.24.4-alpine"
/** FerretDB (SQLite handler): the throwaway MongoDB-wire database of composeUp. */
export const FERRETDB_VERSION = "v1.24.2"
/** actionlint: the same version scripts/install-lint-tools.sh installs. */
export const ACTIONLINT_VERSION = "v1.7.12"
/** A bare Debian 12 for `test`, which runs `.ci/run` exactly like CI. */
export const DEBIAN_IMAGE = "debian:12.11"

/** The dl.k8s.io URLs of kubectl and its checksum for an engine platform such as `linux/amd64`. */
export function kubectlDownload(version: string, platform: string): { url: string; sha256Url: string } {
  if (!/^v[0-9]+\.[0-9]+\.[0-9]+$/.test(version)) {
    throw new Error(`kubectl version must look like v1.32.3 (got "${version}")`)
  }
  const m = /^linux\/(amd64|arm64)(\/v[0-9]+)?$/.exec(platform)
  if (!m) {
    throw new Error(`no kubectl build for platform "${platform}" (linux/amd64 or linux/arm64)`)
  }
  const url = `https://dl.k8s.io/release/${version}/bin/linux/${m[1]}/kubectl`
  return { url, sha256Url: `${url}.sha256` }
}

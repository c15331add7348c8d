/**
 * deployAks' two side effects, each a function of its own: publishing the images (every tag, one digest)
 * and the Kubernetes step (the deploy script in a non-root kubectl container, secrets only as mounted files).
 */
import { dag, ReturnType, type Container, type Directory, type Secret } from "@dagger.io/dagger"

import { kubectlContainer, NONROOT_UID } from "./containers.js"
import { currentCluster, kubeconfigWithTokenFile } from "./kubeconfig.js"
import { deploymentsOf } from "./manifests.js"
import type { DeployedImage } from "./report.js"
import { deployScript } from "./scripts.js"
import { renderEnvFile } from "./settings.js"
import { parsePublishedRef } from "./tags.js"

/** ACR accepts an Entra access token (az acr login --expose-token) with this user name. */
const ACR_TOKEN_USER = "00000000-0000-0000-0000-000000000000"
const NAMESPACE = "mydocs"
const SECRET_NAME = "mydocs-secrets"
/** the deploy script prints this before exiting 3 when the cluster API does not answer */
const UNREACHABLE = "DEPLOY-UNREACHABLE "

/** Pushes each image under every tag to `<registry>/<name>`; all tags of an image must name one digest. */
export async function publishImages(
  images: Array<readonly [string, Container]>,
  registry: string,
  token: Secret,
  tags: string[],
): Promise<DeployedImage[]> {
  // az prints the token with a trailing newline, which a registry password must not have
  const password = dag.setSecret("mydocs-acr-token", (await token.plaintext()).trim())
  return Promise.all(images.map(async ([name, ctr]) => {
    const authed = ctr.withRegistryAuth(registry, ACR_TOKEN_USER, password)
    const refs: string[] = []
    let digest: string | null = null
    for (const t of tags) {
      const published = parsePublishedRef(await authed.publish(`${registry}/${name}:${t}`))
      if (digest !== null && published.digest !== digest) {
        throw new Error(`${name}: tags ${tags.join(", ")} were pushed with different digests`)
      }
      digest = published.digest
      refs.push(`${registry}/${name}:${t}`)
    }
    return { name, refs, digest }
  }))
}

export interface ClusterStep {
  /** the source tree with the stamped overlay, and the overlay's directory in it */
  src: Directory
  overlayDir: string
  rendered: string
  kubeconfig: Secret
  /** Entra access token for the AKS API, or null when the kubeconfig carries its own credential */
  aksToken: Secret | null
  cluster: string
  /** the Secret's entries, or null to leave mydocs-secrets as it is */
  secretEntries: Array<[string, string]> | null
  rolloutTimeout: string
}

export interface ClusterResult {
  exitCode: number
  output: string
  /** the one line that says why the step stopped before applying anything, if it did */
  unreachable: string | null
  stderrTail: string
}

/** Runs the deploy script against the cluster the kubeconfig names (which must be `cluster`). */
export async function applyToCluster(p: ClusterStep): Promise<ClusterResult> {
  const text = await p.kubeconfig.plaintext()
  // never deploy to the wrong cluster: the kubeconfig must name the one asked for
  let kubeconfig = p.kubeconfig
  if (p.aksToken) {
    kubeconfig = dag.setSecret("mydocs-kubeconfig", kubeconfigWithTokenFile(text, "/run/secrets/aks-token", p.cluster))
  } else {
    currentCluster(text, p.cluster)
  }
  const secretFile = { owner: NONROOT_UID, mode: 0o400 }
  let ctr = kubectlContainer()
    .withMountedDirectory("/src", p.src)
    .withMountedSecret("/run/secrets/kubeconfig", kubeconfig, secretFile)
    .withEnvVariable("KUBECONFIG", "/run/secrets/kubeconfig")
  if (p.aksToken) {
    // cmd:// secrets keep the command's trailing newline
    ctr = ctr.withMountedSecret("/run/secrets/aks-token", dag.setSecret("mydocs-aks-token", (await p.aksToken.plaintext()).trim()), secretFile)
  }
  if (p.secretEntries) {
    ctr = ctr.withMountedSecret("/run/secrets/mydocs.env", dag.setSecret("mydocs-secrets-env", renderEnvFile(p.secretEntries)), secretFile)
  }
  const script = deployScript({
    namespace: NAMESPACE,
    secretName: SECRET_NAME,
    secretEnvFile: p.secretEntries ? "/run/secrets/mydocs.env" : null,
    overlayDir: `/src/${p.overlayDir}`,
    deployments: deploymentsOf(p.rendered),
    rolloutTimeout: p.rolloutTimeout,
  })
  const ran = await ctr
    .withNewFile("/tmp/deploy.sh", script, { permissions: 0o555 })
    .withEnvVariable("MYDOCS_DEPLOY_AT", new Date().toISOString())
    .withExec(["bash", "/tmp/deploy.sh"], { redirectStderr: "/tmp/deploy.err", expect: ReturnType.Any })
    .sync()
  const output = await ran.stdout()
  return {
    exitCode: await ran.exitCode(),
    output,
    unreachable: output.split("\n").find((l) => l.startsWith(UNREACHABLE))?.slice(UNREACHABLE.length) ?? null,
    stderrTail: (await ran.file("/tmp/deploy.err").contents()).trim().split("\n").slice(-5).join("\n"),
  }
}

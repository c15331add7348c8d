/**
 * deployAks' side effects, each a function of its own: publishing the images (every tag, one digest),
 * the Kubernetes step (the deploy script in a non-root kubectl container, secrets only as mounted files),
 * the smoke test against the live URL, and the rollback after a failed smoke test.
 */
import { dag, ReturnType, type Container, type Directory, type Secret } from "@dagger.io/dagger"

import { e2eContainer, kubectlContainer, NONROOT_UID } from "./containers.js"
import { currentCluster, kubeconfigWithTokenFile } from "./kubeconfig.js"
import { deploymentsOf } from "./manifests.js"
import type { DeployedImage } from "./report.js"
import { DEPLOY_EXIT, DEPLOY_LINES, deployScript, previousRevisions, rollbackScript, type Revisions } from "./scripts.js"
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
  /** each Deployment's revision before the apply (what a rollback returns to) */
  previous: Revisions
  /** what the script rolled back after a failed rollout (exit 4), or null */
  rolledBack: string | null
  stderrTail: string
}

/** The kubectl container with the cluster's credentials mounted (never on a command line). */
async function clusterContainer(p: ClusterStep): Promise<Container> {
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
  return ctr
}

/** Runs a script in the cluster container; exit code, stdout and the tail of stderr. */
async function runInCluster(p: ClusterStep, name: string, script: string) {
  const ran = await (await clusterContainer(p))
    .withNewFile(`/tmp/${name}.sh`, script, { permissions: 0o555 })
    .withEnvVariable("MYDOCS_DEPLOY_AT", new Date().toISOString())
    .withExec(["bash", `/tmp/${name}.sh`], { redirectStderr: `/tmp/${name}.err`, expect: ReturnType.Any })
    .sync()
  return {
    exitCode: await ran.exitCode(),
    output: await ran.stdout(),
    stderrTail: (await ran.file(`/tmp/${name}.err`).contents()).trim().split("\n").slice(-5).join("\n"),
  }
}

const lineAfter = (output: string, prefix: string) =>
  output.split("\n").find((l) => l.startsWith(prefix))?.slice(prefix.length) ?? null

/**
 * Runs the deploy script against the cluster the kubeconfig names (which must be `cluster`); a
 * rollout that does not complete is rolled back by the script itself (exit 4).
 */
export async function applyToCluster(p: ClusterStep): Promise<ClusterResult> {
  const script = deployScript({
    namespace: NAMESPACE,
    secretName: SECRET_NAME,
    secretEnvFile: p.secretEntries ? "/run/secrets/mydocs.env" : null,
    overlayDir: `/src/${p.overlayDir}`,
    deployments: deploymentsOf(p.rendered),
    rolloutTimeout: p.rolloutTimeout,
  })
  const ran = await runInCluster(p, "deploy", script)
  return {
    ...ran,
    unreachable: lineAfter(ran.output, UNREACHABLE),
    previous: previousRevisions(ran.output),
    rolledBack: ran.exitCode === DEPLOY_EXIT.rolledBack ? lineAfter(ran.output, DEPLOY_LINES.rolledBack) : null,
  }
}

/** Returns every Deployment the deploy moved to the revision it recorded (after a failed smoke test). */
export async function rollBackCluster(p: ClusterStep, previous: Revisions) {
  const ran = await runInCluster(p, "rollback", rollbackScript({
    deployments: deploymentsOf(p.rendered), previous, rolloutTimeout: p.rolloutTimeout,
  }))
  return { ...ran, rolledBack: lineAfter(ran.output, DEPLOY_LINES.rolledBack) }
}

/**
 * The e2e suite's read-only smoke subset (`npm run smoke` in test/e2e: /health, /health/ready, the SPA,
 * its caching and security headers) against the live URL. Nothing is written to the deployment.
 */
export async function smokeTest(src: Directory, url: string, caBundle: Secret | undefined) {
  const ctr = e2eContainer(src, caBundle)
    .withEnvVariable("BASE_URL", url)
    .withEnvVariable("E2E_SKIP_BROWSER", "1")
    .withEnvVariable("MYDOCS_SMOKE_AT", new Date().toISOString())
    .withExec(["npm", "run", "--silent", "smoke"], { expect: ReturnType.Any })
  const ran = await ctr.sync()
  const out = `${await ran.stdout()}${await ran.stderr()}`
  return { passed: (await ran.exitCode()) === 0, outputTail: out.trim().split("\n").slice(-25).join("\n") }
}

/**
 * AKS credentials: the kubeconfig from `az aks get-credentials --file -` names the cluster (server,
 * CA); for Entra-integrated clusters its user is an exec plugin (kubelogin) that cannot run inside
 * our kubectl container. With a short-lived Entra token obtained on the runner, we keep the current
 * context's cluster and replace the user with one that reads the token from a mounted file
 * (`tokenFile`), so the token is never on a command line or in the kubeconfig itself.
 */
import { parse, stringify } from "yaml"

type Named = { name?: unknown; [k: string]: unknown }

function named(list: unknown, what: string): Named[] {
  if (!Array.isArray(list)) throw new Error(`kubeconfig: "${what}" is not a list`)
  return list as Named[]
}

export const DEPLOYER_USER = "mydocs-deployer"

/**
 * Returns a kubeconfig with one cluster, one context and one user whose token is read from
 * `tokenPath`. The context is `current-context` (or the only context).
 */
export function kubeconfigWithTokenFile(kubeconfigYaml: string, tokenPath: string, expectCluster?: string): string {
  if (!tokenPath.startsWith("/")) throw new Error("tokenPath must be absolute")
  const cur = currentCluster(kubeconfigYaml, expectCluster)
  const context: Record<string, unknown> = { cluster: cur.clusterName, user: DEPLOYER_USER }
  if (cur.namespace !== null) context.namespace = cur.namespace
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [cur.cluster],
    contexts: [{ name: cur.contextName, context }],
    users: [{ name: DEPLOYER_USER, user: { tokenFile: tokenPath } }],
    "current-context": cur.contextName,
  })
}

export interface CurrentCluster {
  contextName: string
  clusterName: string
  namespace: string | null
  /** the `clusters[]` entry, as found */
  cluster: Record<string, unknown>
}

/**
 * The cluster the kubeconfig's current context (or only context) points at. With `expectCluster`,
 * a kubeconfig for another cluster is refused: a deploy must never land on the wrong cluster.
 */
export function currentCluster(kubeconfigYaml: string, expectCluster?: string): CurrentCluster {
  let doc: unknown
  try {
    doc = parse(kubeconfigYaml)
  } catch {
    // the parser's message may quote the input, which can hold credentials
    throw new Error("kubeconfig: not valid YAML")
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new Error("kubeconfig: not a mapping")
  }
  const cfg = doc as Record<string, unknown>
  if (cfg.kind !== undefined && cfg.kind !== "Config") throw new Error("kubeconfig: kind is not Config")
  const contexts = named(cfg.contexts, "contexts")
  const clusters = named(cfg.clusters, "clusters")
  let ctxName = typeof cfg["current-context"] === "string" ? (cfg["current-context"] as string) : ""
  if (ctxName === "") {
    if (contexts.length !== 1) throw new Error("kubeconfig: no current-context and not exactly one context")
    ctxName = String(contexts[0]!.name)
  }
  const ctx = contexts.find((c) => c.name === ctxName)
  if (!ctx || typeof ctx.context !== "object" || ctx.context === null) {
    throw new Error(`kubeconfig: context "${ctxName}" not found`)
  }
  const clusterName = (ctx.context as Record<string, unknown>).cluster
  const cluster = clusters.find((c) => c.name === clusterName)
  if (!cluster || typeof cluster.cluster !== "object" || cluster.cluster === null) {
    throw new Error(`kubeconfig: cluster "${String(clusterName)}" of context "${ctxName}" not found`)
  }
  const server = (cluster.cluster as Record<string, unknown>).server
  if (typeof server !== "string" || !server.startsWith("https://")) {
    throw new Error(`kubeconfig: cluster "${String(clusterName)}" has no https server`)
  }
  if (expectCluster !== undefined && clusterName !== expectCluster) {
    throw new Error(`kubeconfig: its cluster is "${String(clusterName)}", expected "${expectCluster}"`)
  }
  const ns = (ctx.context as Record<string, unknown>).namespace
  return {
    contextName: ctxName,
    clusterName: String(clusterName),
    namespace: typeof ns === "string" ? ns : null,
    cluster: cluster as Record<string, unknown>,
  }
}

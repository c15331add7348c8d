/**
 * Reading rendered manifests (`kubectl kustomize` output): what testOnK3d needs to know about the
 * overlay it applies.
 */
import { parseAllDocuments } from "yaml"

function docs(rendered: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = []
  for (const d of parseAllDocuments(rendered)) {
    if ("errors" in d && d.errors.length > 0) {
      throw new Error(`rendered manifests do not parse: ${d.errors[0]!.message}`)
    }
    const js: unknown = d.toJS()
    if (js !== null && typeof js === "object" && !Array.isArray(js)) out.push(js as Record<string, unknown>)
  }
  return out
}

/** Host names of every Ingress rule (an empty list: the rules match any host). */
export function ingressHosts(rendered: string): string[] {
  const hosts: string[] = []
  for (const d of docs(rendered)) {
    if (d.kind !== "Ingress") continue
    const spec = (d.spec ?? {}) as { rules?: Array<{ host?: unknown }> }
    for (const r of spec.rules ?? []) {
      if (typeof r.host === "string" && r.host !== "" && !hosts.includes(r.host)) hosts.push(r.host)
    }
  }
  return hosts
}

/** `namespace/name` of every Deployment, so the script can await each rollout. */
export function deploymentsOf(rendered: string): Array<{ namespace: string; name: string }> {
  const out: Array<{ namespace: string; name: string }> = []
  for (const d of docs(rendered)) {
    if (d.kind !== "Deployment") continue
    const md = (d.metadata ?? {}) as { name?: unknown; namespace?: unknown }
    if (typeof md.name !== "string") throw new Error("a Deployment has no metadata.name")
    out.push({ namespace: typeof md.namespace === "string" ? md.namespace : "default", name: md.name })
  }
  if (out.length === 0) throw new Error("the rendered overlay has no Deployment")
  return out
}

/** Image references used by the containers of every Deployment (to check a stamp took effect). */
export function deploymentImages(rendered: string): string[] {
  const images: string[] = []
  for (const d of docs(rendered)) {
    if (d.kind !== "Deployment") continue
    const tpl = ((d.spec ?? {}) as { template?: { spec?: { containers?: Array<{ image?: unknown }>; initContainers?: Array<{ image?: unknown }> } } }).template
    for (const c of [...(tpl?.spec?.initContainers ?? []), ...(tpl?.spec?.containers ?? [])]) {
      if (typeof c.image === "string" && !images.includes(c.image)) images.push(c.image)
    }
  }
  return images
}

// Every rendered object validates OFFLINE against the strict JSON schemas (generated from the
// Kubernetes OpenAPI) of a pinned Kubernetes version, shipped inside the pinned kubernetes-validate.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { AZURE_BLOB_OVERLAY, K8S, K8S_SCHEMA_VERSION, K8sCopy, type K8sObject, testSelfHostedSecret, validateSchemas } from "./lib/render.js"

let copy: K8sCopy
const renders: Record<string, K8sObject[]> = {}

beforeAll(() => {
  copy = new K8sCopy()
  copy.write("overlays/azure-blob-test/kustomization.yaml", AZURE_BLOB_OVERLAY)
  copy.write("overlays/self-hosted/secret.yml", testSelfHostedSecret(readFileSync(join(K8S, "base/secret.yml.example"), "utf8")))
  for (const o of ["base", "overlays/k3d", "overlays/azure", "overlays/azure-blob-test", "overlays/self-hosted"]) {
    renders[o] = copy.render(o)
  }
})
afterAll(() => copy?.dispose())

describe(`schemas of Kubernetes ${K8S_SCHEMA_VERSION}`, () => {
  it("pins a version >= 1.30", () => {
    const [maj, min] = K8S_SCHEMA_VERSION.split(".").map(Number)
    expect(maj).toBe(1)
    expect(min).toBeGreaterThanOrEqual(30)
  })

  for (const overlay of ["base", "overlays/k3d", "overlays/azure", "overlays/azure-blob-test", "overlays/self-hosted"]) {
    it(`${overlay}: every object is valid (strict: unknown fields are errors)`, () => {
      const objs = renders[overlay]!
      expect(objs.length).toBeGreaterThan(5)
      const r = validateSchemas(objs)
      expect(r.output).toBe("")
      expect(r.ok).toBe(true)
    })
  }

  // the validator must really reject: one broken copy per kind of mistake. (Enum values such as an
  // Ingress pathType are not in the published schemas; the API server checks those.)
  const broken: Array<[string, (objs: K8sObject[]) => void, RegExp]> = [
    ["a port given as a word", (o) => { dep(o).spec.template.spec.containers[0].ports[0].containerPort = "eighty" }, /containerPort/],
    ["an unknown field (typo)", (o) => { dep(o).spec.template.spec.containers[0].livenesProbe = { tcpSocket: { port: 1 } } }, /livenesProbe/],
    ["a container without a name", (o) => { delete dep(o).spec.template.spec.containers[0].name }, /name/],
    ["a wrong type deep down", (o) => { dep(o).spec.replicas = "two" }, /replicas|integer/],
    ["an Ingress path without its backend (required field)", (o) => { delete ing(o).spec.rules[0].http.paths[0].backend }, /backend/],
  ]
  for (const [what, mutate, expected] of broken) {
    it(`rejects ${what}`, () => {
      const objs = structuredClone(renders["overlays/k3d"]!)
      mutate(objs)
      const r = validateSchemas(objs)
      expect(r.ok).toBe(false)
      expect(r.output).toMatch(expected)
    })
  }
})

function dep(objs: K8sObject[]): any {
  return objs.find((o) => o.kind === "Deployment" && o.metadata.name === "backend")!
}
function ing(objs: K8sObject[]): any {
  return objs.find((o) => o.kind === "Ingress")!
}

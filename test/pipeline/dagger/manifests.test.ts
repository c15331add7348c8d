import { describe, expect, it } from "vitest"
import { deploymentImages, deploymentsOf, ingressHosts } from "../../../.dagger/src/manifests.js"

const RENDERED = `apiVersion: v1
kind: Namespace
metadata: {name: mydocs}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: backend, namespace: mydocs}
spec:
  template:
    spec:
      initContainers: [{name: init, image: "busybox:1.36"}]
      containers: [{name: backend, image: "mydocs-backend:k3d-test"}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ui}
spec:
  template:
    spec:
      containers: [{name: ui, image: "mydocs-ui:k3d-test"}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: mydocs-ingress, namespace: mydocs}
spec:
  rules:
    - host: mydocs.localhost
      http: {}
    - http: {}
    - host: mydocs.localhost
`

describe("rendered manifests", () => {
  it("lists the Ingress hosts once each", () => {
    expect(ingressHosts(RENDERED)).toEqual(["mydocs.localhost"])
    expect(ingressHosts("kind: Ingress\nspec: {rules: [{http: {}}]}\n")).toEqual([])
  })
  it("lists the Deployments with their namespaces", () => {
    expect(deploymentsOf(RENDERED)).toEqual([
      { namespace: "mydocs", name: "backend" },
      { namespace: "default", name: "ui" },
    ])
  })
  it("lists every container image", () => {
    expect(deploymentImages(RENDERED)).toEqual(["busybox:1.36", "mydocs-backend:k3d-test", "mydocs-ui:k3d-test"])
  })
  it("refuses an overlay without Deployments, a nameless Deployment and YAML errors", () => {
    expect(() => deploymentsOf("kind: Service\nmetadata: {name: x}\n")).toThrow(/no Deployment/)
    expect(() => deploymentsOf("kind: Deployment\nmetadata: {}\n")).toThrow(/metadata.name/)
    expect(() => ingressHosts("a: [\n")).toThrow(/do not parse/)
  })
})

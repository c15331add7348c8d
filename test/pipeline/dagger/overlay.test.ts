import { execFileSync } from "node:child_process"
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { resolve } from "node:path"
import { describe, expect, it } from "vitest"
import { deploymentImages } from "../../../.dagger/src/manifests.js"
import { Overlay, overlayPath, stampImages } from "../../../.dagger/src/overlay.js"

const D1 = `sha256:${"a".repeat(64)}`
const D2 = `sha256:${"b".repeat(64)}`

const KUSTOMIZATION = `# azure overlay
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../base # the base
images:
  - name: mydocs-backend
    newTag: old
  - name: other-image
    newTag: "1.0"
`

describe("overlayPath", () => {
  it("maps the enum to deploy/k8s/overlays/<dir>", () => {
    expect(overlayPath(Overlay.SELF_HOSTED)).toBe("deploy/k8s/overlays/self-hosted")
    expect(overlayPath(Overlay.AZURE)).toBe("deploy/k8s/overlays/azure")
    expect(overlayPath(Overlay.K3D)).toBe("deploy/k8s/overlays/k3d")
  })
  it("refuses anything else", () => {
    expect(() => overlayPath("self-hosted")).toThrow(/overlay: one of SELF_HOSTED, AZURE, K3D/)
  })
})

describe("stampImages", () => {
  it("replaces an entry in place, appends a new one, keeps the rest and the comments", () => {
    const out = stampImages(KUSTOMIZATION, [
      { name: "mydocs-backend", newName: "acr1x.azurecr.io/mydocs-backend", digest: D1 },
      { name: "mydocs-ui", newName: "acr1x.azurecr.io/mydocs-ui", newTag: "abc123" },
    ])
    expect(out).toContain("# azure overlay")
    expect(out).toContain("# the base")
    expect(out).toBe(`# azure overlay
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../base # the base
images:
  - name: mydocs-backend
    newName: acr1x.azurecr.io/mydocs-backend
    digest: ${D1}
  - name: other-image
    newTag: "1.0"
  - name: mydocs-ui
    newName: acr1x.azurecr.io/mydocs-ui
    newTag: abc123
`)
  })
  it("creates the images list when there is none", () => {
    const out = stampImages("resources:\n  - ../../base\n", [{ name: "mydocs-ui", newTag: "k3d-test" }])
    expect(out).toBe("resources:\n  - ../../base\nimages:\n  - name: mydocs-ui\n    newTag: k3d-test\n")
  })
  it("refuses bad input", () => {
    expect(() => stampImages(KUSTOMIZATION, [{ name: "mydocs-ui" }])).toThrow(/nothing to set/)
    expect(() => stampImages(KUSTOMIZATION, [{ name: "mydocs-ui", digest: "sha256:abc" }])).toThrow(/digest/)
    expect(() => stampImages(KUSTOMIZATION, [{ name: "mydocs-ui", newTag: "a b" }])).toThrow(/newTag/)
    expect(() => stampImages(KUSTOMIZATION, [{ name: "mydocs-ui", newName: "UPPER/x" }])).toThrow(/newName/)
    expect(() => stampImages(KUSTOMIZATION, [{ name: "mydocs-ui", newName: "acr.azurecr.io/a b" }])).toThrow(/newName/)
    expect(() => stampImages(KUSTOMIZATION, [{ name: "mydocs-ui", newName: "-bad.io/x" }])).toThrow(/newName/)
    for (const ok of ["localhost:5000/mydocs-ui", "localhost/mydocs-ui", "registry:5000/a/b", "mydocs-ui", "acr1x.azurecr.io/team/mydocs-ui"]) {
      expect(stampImages("{}", [{ name: "mydocs-ui", newName: ok }])).toContain(`newName: ${ok}`)
    }
    expect(() => stampImages(KUSTOMIZATION, [{ name: "Bad Name", newTag: "x" }])).toThrow(/not an image name/)
    expect(() =>
      stampImages(KUSTOMIZATION, [
        { name: "mydocs-ui", newTag: "1" },
        { name: "mydocs-ui", newTag: "2" },
      ]),
    ).toThrow(/twice/)
    expect(() => stampImages("- a\n- b\n", [{ name: "mydocs-ui", newTag: "1" }])).toThrow(/not a mapping/)
    expect(() => stampImages("images: 3\n", [{ name: "mydocs-ui", newTag: "1" }])).toThrow(/not a list/)
    expect(() => stampImages("kind: Deployment\n", [{ name: "mydocs-ui", newTag: "1" }])).toThrow(/expected Kustomization/)
    expect(() => stampImages("a: [\n", [{ name: "mydocs-ui", newTag: "1" }])).toThrow(/does not parse/)
  })
  it("is what kustomize applies: real `kubectl kustomize` pins the images by digest", () => {
    const dir = mkdtempSync(resolve(tmpdir(), "mydocs-stamp-"))
    mkdirSync(resolve(dir, "base"))
    mkdirSync(resolve(dir, "overlay"))
    writeFileSync(resolve(dir, "base/kustomization.yaml"), "resources:\n  - deploy.yaml\n")
    writeFileSync(
      resolve(dir, "base/deploy.yaml"),
      `apiVersion: apps/v1
kind: Deployment
metadata: {name: backend, namespace: mydocs}
spec:
  selector: {matchLabels: {app: b}}
  template:
    metadata: {labels: {app: b}}
    spec:
      containers:
        - {name: backend, image: "mydocs-backend:latest"}
        - {name: ui, image: "mydocs-ui:latest"}
`,
    )
    writeFileSync(
      resolve(dir, "overlay/kustomization.yaml"),
      stampImages("resources:\n  - ../base\n", [
        { name: "mydocs-backend", newName: "acr1x.azurecr.io/mydocs-backend", digest: D1 },
        { name: "mydocs-ui", newName: "acr1x.azurecr.io/mydocs-ui", digest: D2 },
      ]),
    )
    const rendered = execFileSync("kubectl", ["kustomize", resolve(dir, "overlay")], { encoding: "utf8" })
    expect(deploymentImages(rendered)).toEqual([
      `acr1x.azurecr.io/mydocs-backend@${D1}`,
      `acr1x.azurecr.io/mydocs-ui@${D2}`,
    ])
  })
})

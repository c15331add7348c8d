// The module's edits against the repository's real overlays, rendered by real `kubectl kustomize`:
// what deployAks and testOnK3d would apply.
import { execFileSync } from "node:child_process"
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { resolve } from "node:path"
import { describe, expect, it } from "vitest"
import { parseAllDocuments } from "yaml"
import { deploymentImages, deploymentsOf, ingressHosts } from "../../../.dagger/src/manifests.js"
import { Overlay, overlayPath, stampImages, type ImageStamp } from "../../../.dagger/src/overlay.js"
import { acrRepository, IMAGE_NAMES } from "../../../.dagger/src/tags.js"

const ROOT = resolve(__dirname, "../../..")

/** Copies deploy/ to a temp dir, stamps one overlay like the module does, renders it. */
function stampAndRender(overlay: Overlay, stamps: ImageStamp[]): string {
  const dir = mkdtempSync(resolve(tmpdir(), "mydocs-overlay-"))
  cpSync(resolve(ROOT, "deploy"), resolve(dir, "deploy"), { recursive: true })
  const file = resolve(dir, overlayPath(overlay), "kustomization.yaml")
  writeFileSync(file, stampImages(readFileSync(file, "utf8"), stamps))
  return execFileSync("kubectl", ["kustomize", resolve(dir, overlayPath(overlay))], { encoding: "utf8" })
}

describe("deployAks on deploy/k8s/overlays/azure", () => {
  it("pins both images to ACR by digest", () => {
    const d = (c: string) => `sha256:${c.repeat(64)}`
    const rendered = stampAndRender(Overlay.AZURE, [
      { name: IMAGE_NAMES.backend, newName: acrRepository("mydocsacr", IMAGE_NAMES.backend), digest: d("1") },
      { name: IMAGE_NAMES.ui, newName: acrRepository("mydocsacr", IMAGE_NAMES.ui), digest: d("2") },
    ])
    const images = deploymentImages(rendered)
    expect(images).toContain(`mydocsacr.azurecr.io/mydocs-backend@${d("1")}`)
    expect(images).toContain(`mydocsacr.azurecr.io/mydocs-ui@${d("2")}`)
    expect(images.filter((i) => !i.startsWith("mydocsacr.azurecr.io/"))).toEqual([])
    expect(deploymentsOf(rendered).map((x) => `${x.namespace}/${x.name}`).sort()).toEqual(["mydocs/backend", "mydocs/ui"])
    // the pipeline creates mydocs-secrets itself: the overlay must not ship one
    const secrets = parseAllDocuments(rendered).map((d) => d.toJS()).filter((o) => o?.kind === "Secret")
    expect(secrets.map((o) => o.metadata?.name)).not.toContain("mydocs-secrets")
  })
})

describe("testOnK3d on deploy/k8s/overlays/k3d", () => {
  it("uses the three imported images, awaits every Deployment, and matches any host", () => {
    const tag = "k3d-test"
    const rendered = stampAndRender(Overlay.K3D, [
      { name: IMAGE_NAMES.backend, newTag: tag },
      { name: IMAGE_NAMES.ui, newTag: tag },
      { name: "mydocs-test-mongo", newTag: tag },
    ])
    expect(deploymentImages(rendered).sort()).toEqual(
      [`mydocs-backend:${tag}`, `mydocs-test-mongo:${tag}`, `mydocs-ui:${tag}`].sort(),
    )
    expect(deploymentsOf(rendered).every((x) => x.namespace === "mydocs")).toBe(true)
    expect(deploymentsOf(rendered).map((x) => x.name).sort()).toEqual(["backend", "mongo", "ui"])
    expect(ingressHosts(rendered)).toEqual([])
  })
})

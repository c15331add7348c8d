// renderManifests and lint on the engine: the module's kubectl (from the Kubernetes image, on the Debian
// tool base) renders every overlay exactly as `kubectl kustomize` on this machine; actionlint with
// shellcheck passes on our workflows and fails on a broken copy.
import { execFileSync } from "node:child_process"
import { copyFileSync, mkdtempSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { describe, expect, it } from "vitest"

import { Overlay } from "../../.dagger/src/index.js"
import { overlayPath } from "../../.dagger/src/overlay.js"
import { moduleSource, mydocs, REPO, useEngine } from "./lib/engine.js"

useEngine()

function hostKustomize(overlay: Overlay): string {
  let dir = path.join(REPO, overlayPath(overlay))
  if (overlay === Overlay.SELF_HOSTED) {
    // what the module does when the operator's secret.yml is absent (it never enters the module)
    const tmp = mkdtempSync(path.join(os.tmpdir(), "mydocs-render-"))
    execFileSync("cp", ["-r", path.join(REPO, "deploy"), tmp])
    dir = path.join(tmp, overlayPath(overlay))
    copyFileSync(path.join(tmp, "deploy/k8s/base/secret.yml.example"), path.join(dir, "secret.yml"))
  }
  return execFileSync("kubectl", ["kustomize", dir], { encoding: "utf8" })
}

describe("renderManifests", () => {
  for (const overlay of Object.values(Overlay)) {
    it(`${overlay}: equals kubectl kustomize of the same overlay on the host`, async () => {
      const rendered = await (await mydocs()).renderManifests(overlay)
      expect(rendered).toContain("kind: Deployment")
      expect(rendered).toBe(hostKustomize(overlay))
    })
  }
})

describe("lint", () => {
  it("is clean on our workflows and renders every overlay", async () => {
    const out = await (await mydocs()).lint()
    expect(out).toContain("actionlint: workflows ok")
    for (const overlay of Object.values(Overlay)) expect(out).toMatch(new RegExp(`${overlayPath(overlay)}: [1-9][0-9]* deployments rendered`))
  })

  it("fails on a broken copy of a workflow (an undefined expression and a shellcheck finding)", async () => {
    const src = (await moduleSource()).withNewFile(".github/workflows/broken.yml", [
      "name: broken",
      "on: push",
      "jobs:",
      "  b:",
      "    runs-on: ubuntu-24.04",
      "    steps:",
      "      - run: echo ${{ github.nope }} && cd $UNQUOTED",
      "",
    ].join("\n"))
    await expect((await mydocs(src)).lint()).rejects.toThrow(/broken\.yml|exit code/)
  })
})

// testOnK3d on the engine. Its dind container, dockerd and k3d run for real; no registry serves the k3s
// node image here, so the run must stop at create-cluster and say so: a report (not an exception) that
// names the step, carries its diagnostics and artifacts, and shows the cluster and its containers gone.
import { describe, expect, it } from "vitest"

import { moduleSource, mydocs, useEngine } from "./lib/engine.js"

useEngine()

describe("testOnK3d", () => {
  it("runs up to the k3s image, then returns a failed report naming that step, with diagnostics; nothing left behind", async () => {
    const report = await (await mydocs()).testOnK3d("120s", false)
    expect(report.passed).toBe(false)
    expect(report.failedStep).toBe("create-cluster")
    const steps = report.steps.map((s) => `${s.name}=${s.status}`)
    expect(steps).toEqual([
      "start-docker=ok", "create-cluster=failed", "import-images=skipped", "install-ingress=skipped",
      "apply-overlay=skipped", "rollout=skipped", "e2e=skipped", "delete-cluster=ok",
    ])
    const summary = report.summary
    console.log(summary.slice(0, 3000)) // what an operator sees
    expect(summary).toContain('first problem: step "create-cluster" failed')
    expect(summary).toContain("--- diagnostics ---")
    expect(summary).toMatch(/rancher\/k3s|k3s/)
    // (the module's objects as a client session holds them: fields, not API calls)
    // the artifacts are reachable although the run failed
    const artifacts = report.artifacts
    const files = await artifacts.entries()
    for (const f of ["summary.txt", "steps.log", "create-cluster.log", "diagnostics.txt", "delete-cluster.log", "leftover-containers.txt"]) {
      expect(files, f).toContain(f)
    }
    expect(await artifacts.file("delete-cluster.log").contents()).toContain("no container left")
    expect((await artifacts.file("leftover-containers.txt").contents()).trim()).toBe("")
    expect(await artifacts.file("start-docker.log").contents()).toMatch(/dockerd \d+\./)
    // failing is an explicit step
    expect(() => report.check()).toThrow(/create-cluster/)
  })
})

import { describe, expect, it } from "vitest"
import {
  CLUSTER_STEPS,
  firstProblem,
  formatDeployReport,
  formatK3dReport,
  K3D_STEPS,
  parseStepLog,
  reportPassed,
  type K3dRunReport,
} from "../../../.dagger/src/report.js"

const ALL_OK = K3D_STEPS.map((s, i) => `STEP ${s} ok ${i + 1}`).join("\n") + "\n"

function run(log: string, exitCode = 0, diagnostics = ""): K3dRunReport {
  return { cluster: "mydocs-e2e", baseUrl: "http://127.0.0.1:8081", steps: parseStepLog(log), exitCode, diagnostics }
}

describe("parseStepLog", () => {
  it("parses STEP lines", () => {
    expect(parseStepLog("STEP create-cluster ok 42\n\nSTEP e2e skipped 0\n")).toEqual([
      { name: "create-cluster", status: "ok", seconds: 42 },
      { name: "e2e", status: "skipped", seconds: 0 },
    ])
  })
  it("refuses anything else", () => {
    expect(() => parseStepLog("STEP e2e passed 3")).toThrow(/line 1 is malformed/)
    expect(() => parseStepLog("STEP e2e ok\n")).toThrow(/malformed/)
    expect(() => parseStepLog("hello")).toThrow(/malformed/)
  })
})

describe("the k3d report", () => {
  it("passes only when every step is ok and the exit code is 0", () => {
    const r = run(ALL_OK)
    expect(reportPassed(r)).toBe(true)
    expect(firstProblem(r)).toBeNull()
    const text = formatK3dReport(r)
    expect(text).toMatch(/^testOnK3d: PASSED \(cluster mydocs-e2e, e2e against http:\/\/127.0.0.1:8081\)/)
    expect(text).toContain("total 36s")
    expect(text).not.toContain("diagnostics")
  })
  it("fails on a failed step, shows the diagnostics and the first problem", () => {
    const log = ALL_OK.replace("STEP rollout ok 6", "STEP rollout failed 300").replace("STEP e2e ok 7", "STEP e2e skipped 0")
    const r = run(log, 1, "### pods\nbackend CrashLoopBackOff\n")
    expect(reportPassed(r)).toBe(false)
    expect(firstProblem(r)).toBe('step "rollout" failed')
    const text = formatK3dReport(r)
    expect(text).toContain("testOnK3d: FAILED")
    expect(text).toContain("FAILED  rollout")
    expect(text).toContain("skipped e2e")
    expect(text).toContain("--- diagnostics ---\n### pods\nbackend CrashLoopBackOff")
  })
  it("fails when a step never ran, when the cluster was not deleted, or on a non-zero exit", () => {
    const missing = run(ALL_OK.replace(/STEP e2e ok 7\n/, ""))
    expect(reportPassed(missing)).toBe(false)
    expect(firstProblem(missing)).toBe('step "e2e" never ran')
    expect(reportPassed(run(ALL_OK.replace("STEP delete-cluster ok 8", "STEP delete-cluster failed 8")))).toBe(false)
    const code = run(ALL_OK, 2)
    expect(reportPassed(code)).toBe(false)
    expect(firstProblem(code)).toBe("the test script exited with 2")
    expect(reportPassed(run(""))).toBe(false)
  })
})

describe("formatDeployReport", () => {
  const images = [
    { name: "mydocs-backend", refs: ["a.azurecr.io/mydocs-backend:abc", "a.azurecr.io/mydocs-backend:latest"], digest: `sha256:${"1".repeat(64)}` },
  ]
  it("lists images, digests and secret key names, never values", () => {
    const t = formatDeployReport({
      dryRun: false, event: "push", target: "AKS x", images, secretKeys: ["MONGO_URL", "MONGO_PASSWORD"],
      secretSource: "env-file", skippedEmpty: ["AZURE_DI_API_KEY"], body: "deployed\n",
    })
    expect(t).toContain("deployAks: AKS x, event push")
    expect(t).toContain(`mydocs-backend: a.azurecr.io/mydocs-backend:abc, a.azurecr.io/mydocs-backend:latest @ sha256:${"1".repeat(64)}`)
    expect(t).toContain("keys from the env file: MONGO_URL, MONGO_PASSWORD")
    expect(t).toContain("left out: AZURE_DI_API_KEY")
    expect(t).toContain("--- deploy output ---\ndeployed")
  })
  it("says what a dry run did not do, and when the Secret is untouched", () => {
    const dry = formatDeployReport({ dryRun: true, event: "pull_request", target: "AKS x", images, secretKeys: ["MONGO_URL"],
      secretSource: "backend-keys", skippedEmpty: [], body: "kind: Namespace\n" })
    expect(dry).toContain("dry run: nothing pushed, Azure not contacted")
    expect(dry).toContain("keys the backend reads as secrets")
    expect(dry).toContain("--- rendered manifests ---\nkind: Namespace")
    const same = formatDeployReport({ dryRun: false, event: "local", target: "AKS x", images, secretKeys: [],
      secretSource: "unchanged", skippedEmpty: [], body: "" })
    expect(same).toContain("left unchanged")
  })
})

describe("the testOnCluster report (its own steps)", () => {
  const cluster = (log: string, exitCode = 0): K3dRunReport => ({
    cluster: "mydocs-test", baseUrl: "http://172.17.0.2:8000", steps: parseStepLog(log), exitCode, diagnostics: "",
    expectedSteps: CLUSTER_STEPS, title: "testOnCluster",
  })
  const ok = CLUSTER_STEPS.map((s) => `STEP ${s} ok 1`).join("\n")
  it("passes on its four steps, without testOnK3d's cluster steps", () => {
    const r = cluster(ok)
    expect(reportPassed(r)).toBe(true)
    expect(formatK3dReport(r)).toMatch(/^testOnCluster: PASSED \(cluster mydocs-test, e2e against http:\/\/172.17.0.2:8000\)/)
    // the same log judged as testOnK3d's misses its steps
    expect(reportPassed({ ...r, expectedSteps: undefined })).toBe(false)
  })
  it("names a missing step of its own", () => {
    const r = cluster(ok.replace("STEP e2e ok 1", ""))
    expect(reportPassed(r)).toBe(false)
    expect(firstProblem(r)).toBe('step "e2e" never ran')
  })
})

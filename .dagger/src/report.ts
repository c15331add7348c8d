/**
 * The testOnK3d report. The in-cluster script appends one line per step to a log:
 *   STEP <name> <ok|failed|skipped> <seconds>
 * and these functions turn that log into a report and a readable summary.
 */

export type StepStatus = "ok" | "failed" | "skipped"

export interface StepResult {
  name: string
  status: StepStatus
  seconds: number
}

export interface K3dRunReport {
  cluster: string
  baseUrl: string
  steps: StepResult[]
  /** exit code of the script: 0 only when every step passed and the cluster was deleted */
  exitCode: number
  /** pod logs, events, failing step output; empty when everything passed */
  diagnostics: string
  /** the steps the run must account for (default: testOnK3d's) and the function's name for the title */
  expectedSteps?: readonly string[]
  title?: string
}

/** The steps the script runs, in order; the report must account for each. */
export const K3D_STEPS = [
  "start-docker",
  "create-cluster",
  "import-images",
  "install-ingress",
  "apply-overlay",
  "rollout",
  "e2e",
  "delete-cluster",
] as const

/** testOnCluster's steps: the part of testOnK3d that runs on any cluster's kubeconfig. */
export const CLUSTER_STEPS = ["check-cluster", "apply-overlay", "rollout", "e2e"] as const

const expectedOf = (r: K3dRunReport): readonly string[] => r.expectedSteps ?? K3D_STEPS

export function parseStepLog(text: string): StepResult[] {
  const steps: StepResult[] = []
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim()
    if (line === "") return
    const m = /^STEP ([a-z0-9-]+) (ok|failed|skipped) ([0-9]+)$/.exec(line)
    if (!m) throw new Error(`step log line ${i + 1} is malformed: "${line}"`)
    steps.push({ name: m[1]!, status: m[2] as StepStatus, seconds: Number(m[3]) })
  })
  return steps
}

/** Passed means: exit code 0, every expected step present and ok, none failed. */
export function reportPassed(r: K3dRunReport): boolean {
  if (r.exitCode !== 0) return false
  return expectedOf(r).every((name) => r.steps.some((s) => s.name === name && s.status === "ok")) &&
    !r.steps.some((s) => s.status === "failed")
}

/** The first failed step, or the first expected step that never ran. */
export function firstProblem(r: K3dRunReport): string | null {
  const failed = r.steps.find((s) => s.status === "failed")
  if (failed) return `step "${failed.name}" failed`
  const missing = expectedOf(r).find((name) => !r.steps.some((s) => s.name === name))
  if (missing) return `step "${missing}" never ran`
  if (r.exitCode !== 0) return `the test script exited with ${r.exitCode}`
  return null
}

export function formatK3dReport(r: K3dRunReport): string {
  const passed = reportPassed(r)
  const lines = [
    `${r.title ?? "testOnK3d"}: ${passed ? "PASSED" : "FAILED"} (cluster ${r.cluster}, e2e against ${r.baseUrl})`,
    ...r.steps.map((s) => `  ${s.status === "ok" ? "ok     " : s.status === "failed" ? "FAILED " : "skipped"} ${s.name.padEnd(16)} ${s.seconds}s`),
  ]
  const total = r.steps.reduce((a, s) => a + s.seconds, 0)
  lines.push(`  total ${total}s`)
  if (!passed) {
    const p = firstProblem(r)
    if (p) lines.push(`  first problem: ${p}`)
    if (r.diagnostics.trim() !== "") lines.push("", "--- diagnostics ---", r.diagnostics.trimEnd())
  }
  return lines.join("\n") + "\n"
}

export interface DeployedImage {
  name: string
  /** every reference pushed (`repo:tag`), or the would-be reference in a dry run */
  refs: string[]
  /** `sha256:…` of the pushed image; null in a dry run */
  digest: string | null
}

export interface DeployReport {
  dryRun: boolean
  event: string
  target: string
  images: DeployedImage[]
  /** key names of mydocs-secrets (never values) */
  secretKeys: string[]
  /** where the key names come from: the given env file, or the backend's list when none was given */
  secretSource: "env-file" | "backend-keys" | "unchanged"
  skippedEmpty: string[]
  /** rendered manifests (dry run) or the deploy script's output */
  body: string
}

export function formatDeployReport(r: DeployReport): string {
  const lines = [
    `deployAks${r.dryRun ? " (dry run: nothing pushed, Azure not contacted)" : ""}: ${r.target}, event ${r.event}`,
    "images:",
    ...r.images.map((i) => `  ${i.name}: ${i.refs.join(", ")}${i.digest ? ` @ ${i.digest}` : ""}`),
  ]
  if (r.secretSource === "unchanged") {
    lines.push("secret mydocs-secrets: left unchanged (no env file given)")
  } else {
    const what = r.secretSource === "env-file" ? "keys from the env file" : "keys the backend reads as secrets (no env file given)"
    lines.push(`secret mydocs-secrets, ${what}: ${r.secretKeys.join(", ") || "(none)"}`)
  }
  if (r.skippedEmpty.length > 0) lines.push(`empty in the env file, left out: ${r.skippedEmpty.join(", ")}`)
  lines.push(r.dryRun ? "--- rendered manifests ---" : "--- deploy output ---", r.body.trimEnd())
  return lines.join("\n") + "\n"
}

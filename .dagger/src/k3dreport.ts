/**
 * The objects testOnK3d returns. Their constructors take only what the API exposes (the SDK registers
 * constructor arguments); `k3dReportOf` builds one from the script's run.
 */
import { func, object, type Directory } from "@dagger.io/dagger"

import { formatK3dReport, K3D_STEPS, reportPassed, type K3dRunReport } from "./report.js"

/** One step of a testOnK3d run. */
@object()
export class K3dStep {
  /** step name, e.g. create-cluster */
  @func() name: string
  /** ok, failed or skipped */
  @func() status: string
  /** wall-clock seconds */
  @func() seconds: number

  constructor(name: string, status: string, seconds: number) {
    this.name = name
    this.status = status
    this.seconds = seconds
  }
}

/**
 * The result of a testOnK3d run, passed or not: a failed run still returns its report, so its
 * artifacts can be exported; `check` is the explicit pass/fail step.
 */
@object()
export class K3dReport {
  /** true: every step passed and the cluster was deleted */
  @func() passed: boolean
  /** the ephemeral cluster's name */
  @func() cluster: string
  /** the URL the e2e suite ran against (through ingress-nginx) */
  @func() baseUrl: string
  /** the first failed step (or missing step), empty when passed */
  @func() failedStep: string
  /** every step with its status and duration */
  @func() steps: K3dStep[]
  /** the report as text, with the diagnostics of a failed run */
  @func() summary: string
  /** step logs, diagnostics, summary.txt and e2e artifacts (screenshots) */
  @func() artifacts: Directory

  constructor(passed: boolean, cluster: string, baseUrl: string, failedStep: string, steps: K3dStep[], summary: string, artifacts: Directory) {
    this.passed = passed
    this.cluster = cluster
    this.baseUrl = baseUrl
    this.failedStep = failedStep
    this.steps = steps
    this.summary = summary
    this.artifacts = artifacts
  }

  /** Fails (with the summary) unless the run passed; returns the summary when it did. */
  @func()
  check(): string {
    if (!this.passed) throw new Error(this.summary)
    return this.summary
  }
}

export function k3dReportOf(r: K3dRunReport, artifacts: Directory): K3dReport {
  const summary = formatK3dReport(r)
  const passed = reportPassed(r)
  // the step that failed, else the first expected step that never ran
  const failedStep = passed ? "" : r.steps.find((s) => s.status === "failed")?.name ??
    (r.expectedSteps ?? K3D_STEPS).find((n) => !r.steps.some((s) => s.name === n)) ?? ""
  return new K3dReport(
    passed,
    r.cluster,
    r.baseUrl,
    failedStep,
    r.steps.map((s) => new K3dStep(s.name, s.status, s.seconds)),
    summary,
    // status: one word a CI step can test after exporting the artifacts (passed or failed)
    artifacts.withNewFile("summary.txt", summary).withNewFile("status", passed ? "passed\n" : "failed\n"),
  )
}

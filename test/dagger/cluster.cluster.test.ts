// testOnCluster on the engine, against the real test cluster of scripts/cluster.sh (Kubernetes v1.34.4
// in a container on this Docker engine, reached from the engine's containers at the node's address).
// scripts/test-cluster.sh runs it with the variables `cluster.sh up` prints; test/dagger's vitest
// config leaves *.cluster.test.ts out unless MYDOCS_CLUSTER_NODE is set (and then it needs them all).
import { dag } from "@dagger.io/dagger"
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"

import { mydocs, useEngine } from "./lib/engine.js"

const need = ["MYDOCS_CLUSTER_INTERNAL_KUBECONFIG", "MYDOCS_CLUSTER_INTERNAL_URL"].filter((v) => !process.env[v])
if (need.length > 0) throw new Error(`run after eval "$(bash scripts/cluster.sh up)": missing ${need.join(", ")}`)

useEngine()

describe("testOnCluster on the real test cluster", () => {
  it("applies the test overlay, awaits the rollouts and passes the e2e HTTP checks through the cluster's Ingress", async () => {
    const kubeconfig = dag.setSecret("test-cluster-kubeconfig", readFileSync(process.env.MYDOCS_CLUSTER_INTERNAL_KUBECONFIG!, "utf8"))
    const report = await (await mydocs()).testOnCluster(kubeconfig, process.env.MYDOCS_CLUSTER_INTERNAL_URL!, "180s")
    console.log(report.summary.slice(0, 4000))
    expect(report.steps.map((s) => `${s.name}=${s.status}`)).toEqual(["check-cluster=ok", "apply-overlay=ok", "rollout=ok", "e2e=ok"])
    expect(report.passed).toBe(true)
    expect(report.cluster).toBe("mydocs-test")
    expect(report.summary).toMatch(/^testOnCluster: PASSED/)
    const e2e = await report.artifacts.file("e2e.log").contents()
    expect(e2e).toMatch(/uploads exactly 100 MiB and downloads it byte-identical/)
    expect(await report.artifacts.file("status").contents()).toBe("passed\n")
  })

  it("a cluster that does not answer: a failed report at check-cluster, nothing applied, diagnostics say why", async () => {
    const text = readFileSync(process.env.MYDOCS_CLUSTER_INTERNAL_KUBECONFIG!, "utf8").replace(/server: .*/, "server: https://127.0.0.1:1")
    const report = await (await mydocs()).testOnCluster(dag.setSecret("unreachable-kubeconfig", text), process.env.MYDOCS_CLUSTER_INTERNAL_URL!, "30s")
    expect(report.passed).toBe(false)
    expect(report.failedStep).toBe("check-cluster")
    expect(report.steps.map((s) => `${s.name}=${s.status}`)).toEqual(["check-cluster=failed", "apply-overlay=skipped", "rollout=skipped", "e2e=skipped"])
    expect(report.summary).toContain("cannot reach the Kubernetes API at https://127.0.0.1:1")
    expect(() => report.check()).toThrow(/check-cluster/)
  })
})

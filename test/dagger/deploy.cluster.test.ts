// deployAks's Kubernetes step (applyToCluster: the deploy script in the non-root kubectl container, the
// Secret from a mounted env file) and its rollback step (rollBackCluster), on the engine, against the
// real test cluster of scripts/cluster.sh at the node's address. scripts/test-cluster.sh runs it;
// test/dagger's vitest config leaves *.cluster.test.ts out unless MYDOCS_CLUSTER_NODE is set.
import { dag } from "@dagger.io/dagger"
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"

import { applyToCluster, rollBackCluster, smokeTest, type ClusterStep } from "../../.dagger/src/deploy.js"
import { Overlay } from "../../.dagger/src/overlay.js"
import { moduleSource, mydocs, useEngine } from "./lib/engine.js"

const need = ["MYDOCS_CLUSTER_INTERNAL_KUBECONFIG", "MYDOCS_CLUSTER_INTERNAL_URL"].filter((v) => !process.env[v])
if (need.length > 0) throw new Error(`run after eval "$(bash scripts/cluster.sh up)": missing ${need.join(", ")}`)

useEngine()

const OVERLAY = "deploy/k8s/overlays/k3d"

async function step(uiTag = "latest"): Promise<ClusterStep> {
  let src = await moduleSource()
  const k = await src.file(`${OVERLAY}/kustomization.yaml`).contents()
  const stamped = k.replace(/(- name: mydocs-ui\n\s+newTag: )latest/, `$1${uiTag}`)
  if (uiTag !== "latest" && stamped === k) throw new Error("the k3d overlay's images: entry for mydocs-ui was not found")
  src = src.withNewFile(`${OVERLAY}/kustomization.yaml`, stamped)
  const rendered = await (await mydocs(src)).renderManifests(Overlay.K3D)
  return {
    src, overlayDir: OVERLAY, rendered,
    kubeconfig: dag.setSecret("test-cluster-kubeconfig", readFileSync(process.env.MYDOCS_CLUSTER_INTERNAL_KUBECONFIG!, "utf8")),
    aksToken: null, cluster: "mydocs-test",
    secretEntries: [["MYDOCS_DEPLOY_ENGINE_TEST", "1"]],
    rolloutTimeout: "60s",
  }
}

describe("deployAks's Kubernetes step on the engine, against the real test cluster", () => {
  it("applies the overlay, writes the Secret from the mounted env file, completes the rollouts; the rollback step then finds nothing to undo", async () => {
    const s = await step()
    const r = await applyToCluster(s)
    expect(r.exitCode, `${r.output}\n${r.stderrTail}`).toBe(0)
    expect(r.output.trim().split("\n").at(-1)).toBe("deployed")
    expect(r.output).toMatch(/secret\/mydocs-secrets (created|configured|unchanged)/)
    expect(r.output).not.toContain("MYDOCS_DEPLOY_ENGINE_TEST=1")   // values only in the mounted file
    expect(Object.keys(r.previous).sort()).toEqual(["mydocs/backend", "mydocs/mongo", "mydocs/ui"])
    const back = await rollBackCluster(s, r.previous)
    expect(back.exitCode, back.output).toBe(0)
    expect(back.rolledBack).toMatch(/^none/)
  })

  it("a bad image: the rollout fails within its timeout and the step rolls the Deployment back (exit 4)", async () => {
    const r = await applyToCluster(await step("no-such-tag"))
    expect(r.exitCode, r.output).toBe(4)
    expect(r.output).toContain("DEPLOY-ROLLOUT-FAILED mydocs/ui")
    expect(r.rolledBack).toMatch(/^mydocs\/ui@[0-9]+$/)
    // the previous version serves again: the next deploy of the good overlay changes nothing it must wait for
    const again = await applyToCluster(await step())
    expect(again.exitCode, again.output).toBe(0)
  })

  it("the smoke test (the e2e suite's read-only subset in a Node container) passes against the live Ingress, fails against a dead URL", async () => {
    const src = await moduleSource()
    const ca = dag.setSecret("host-ca", readFileSync(process.env.MYDOCS_CA_BUNDLE ?? "/etc/ssl/certs/ca-certificates.crt", "utf8"))
    const live = await smokeTest(src, process.env.MYDOCS_CLUSTER_INTERNAL_URL!, ca)
    expect(live.passed, live.outputTail).toBe(true)
    expect(live.outputTail).toMatch(/(?:^|\D)1[0-9] passed/)
    const dead = await smokeTest(src, "http://127.0.0.1:1", ca)
    expect(dead.passed).toBe(false)
    expect(dead.outputTail).toMatch(/did not answer 200 within 60 s/)
  })
})

// The k3d overlay's pods, run with Docker under the same constraints the kubelet applies (user,
// read-only root, no capabilities, no privilege escalation, sysctls, limits, volumes): proves that the
// manifests' security settings and writable paths fit the real images.
//
// It needs the three images built, named by MYDOCS_POD_RUN_IMAGES; scripts/test-e2e.sh runs it right
// after building them:
//   MYDOCS_POD_RUN_IMAGES=backend=mydocs-backend:dev,ui=mydocs-ui:dev,mongo=mydocs-local/ferretdb:1.24.2 \
//     npx vitest run --root test/pipeline k8s/podrun.docker.test.ts
// The pipeline suite leaves this file out (vitest.config.ts) unless that variable is set; run without
// it, the file fails instead of skipping. The argument mapping is tested in podrun.test.ts.
import { execFileSync, spawnSync } from "node:child_process"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { dockerRunArgs, type PodRun } from "./lib/podrun.js"
import { renderCopy, type K8sObject } from "./lib/render.js"

let k3d: K8sObject[]
beforeAll(() => {
  k3d = renderCopy("overlays/k3d")
})

const IMAGES = Object.fromEntries(
  (process.env.MYDOCS_POD_RUN_IMAGES ?? "")
    .split(",")
    .filter((p) => p.includes("="))
    .map((p) => p.split("=", 2) as [string, string]),
)
const missing = ["backend", "ui", "mongo"].filter((k) => !IMAGES[k])
if (missing.length > 0) {
  throw new Error(`MYDOCS_POD_RUN_IMAGES must name the images backend=...,ui=...,mongo=... (missing: ${missing.join(", ")})`)
}

describe("the k3d pods under their security context, with Docker (MYDOCS_POD_RUN_IMAGES)", () => {
  const suffix = `${process.pid}-${Date.now()}`
  const net = `mydocs-podrun-${suffix}`
  const names = { mongo: `mydocs-podrun-mongo-${suffix}`, backend: `mydocs-podrun-backend-${suffix}`, ui: `mydocs-podrun-ui-${suffix}` }
  const runs: PodRun[] = []
  let base = ""

  const docker = (...args: string[]) => execFileSync("docker", args, { encoding: "utf8" }).trim()

  beforeAll(async () => {
    docker("network", "create", net)
    for (const [dep, alias] of [["mongo", "mongo"], ["backend", "backend"], ["ui", "ui"]] as const) {
      const run = dockerRunArgs(k3d, dep, {
        image: IMAGES[dep]!,
        name: names[dep],
        network: net,
        alias,
        publish: dep === "ui" ? "127.0.0.1::80" : undefined,
      })
      runs.push(run)
      docker("run", ...run.args)
    }
    const port = docker("port", names.ui, "80/tcp").split("\n")[0]!.split(":").pop()
    base = `http://127.0.0.1:${port}`
    const deadline = Date.now() + 90_000
    for (;;) {
      try {
        // bounded: a request that hangs must not eat the hook's time (the deadline then reports the logs)
        const r = await fetch(`${base}/health/ready`, { signal: AbortSignal.timeout(5_000) })
        if (r.status === 200) break
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error(`not ready in 90 s:\n${logs()}`)
      await new Promise((res) => setTimeout(res, 1000))
    }
  }, 150_000)

  function logs(): string {
    return Object.values(names)
      .map((n) => {
        const r = spawnSync("docker", ["logs", "--tail", "40", n], { encoding: "utf8" })
        return `### ${n}\n${r.stdout}${r.stderr}`
      })
      .join("\n")
  }

  afterAll(() => {
    for (const n of Object.values(names)) spawnSync("docker", ["rm", "-f", n])
    spawnSync("docker", ["network", "rm", net])
    for (const r of runs) r.dispose()
  })

  it("the ui serves the SPA and proxies /health and /health/ready to the backend", async () => {
    const index = await fetch(`${base}/`)
    expect(index.status).toBe(200)
    expect(await index.text()).toMatch(/<div id="app"|<!doctype html>/i)
    expect((await fetch(`${base}/health`)).status).toBe(200)
    const ready = await (await fetch(`${base}/health/ready`)).json()
    expect(ready).toMatchObject({ status: "ready", checks: { mongo: "ok", storage: "ok" } })
  })

  it("an upload is stored through the read-only pods (writes to the data volume and /tmp only)", async () => {
    const form = new FormData()
    form.append("files", new Blob([`pod-run ${suffix}\n`], { type: "text/plain" }), `podrun-${suffix}.txt`)
    const r = await fetch(`${base}/api/v1/documents/upload`, { method: "POST", body: form })
    expect(r.status).toBe(201)
    const body = (await r.json()) as { results: Array<{ document: { id: string; size: number } }> }
    const id = body.results[0]!.document.id
    const file = await fetch(`${base}/api/v1/documents/${id}/file`)
    expect(file.status).toBe(200)
    expect(await file.text()).toBe(`pod-run ${suffix}\n`)
  })

  it("without the pod's sysctl the non-root nginx cannot listen on port 80 (the sysctl is what makes it work)", () => {
    const objs = structuredClone(k3d)
    delete objs.find((o) => o.kind === "Deployment" && o.metadata.name === "ui")!.spec.template.spec.securityContext.sysctls
    const name = `mydocs-podrun-ui-nosysctl-${suffix}`
    const run = dockerRunArgs(objs, "ui", { image: IMAGES.ui!, name, network: net, alias: "ui-nosysctl" })
    try {
      docker("run", ...run.args)
      let state = { Running: true, ExitCode: 0 }
      for (let i = 0; i < 30 && state.Running; i++) {
        spawnSync("sleep", ["0.5"])
        state = JSON.parse(docker("inspect", "--format", "{{json .State}}", name))
      }
      const out = spawnSync("docker", ["logs", name], { encoding: "utf8" })
      expect(state.Running).toBe(false)
      expect(state.ExitCode).not.toBe(0)
      expect(`${out.stdout}${out.stderr}`).toMatch(/bind\(\) to 0\.0\.0\.0:80 failed \(13: Permission denied\)/)
    } finally {
      spawnSync("docker", ["rm", "-f", name])
      run.dispose()
    }
  })

  it("every container still runs, as its non-root user", () => {
    for (const n of Object.values(names)) {
      const st = JSON.parse(docker("inspect", "--format", "{{json .State}}", n)) as { Running: boolean; Restarting: boolean }
      expect(st.Running, n).toBe(true)
      const user = docker("inspect", "--format", "{{.Config.User}}", n)
      expect(user).toMatch(/^[1-9]\d*:\d+$/)
    }
  })
})

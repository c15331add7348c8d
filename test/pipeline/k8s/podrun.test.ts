// The k3d overlay's pods, run with Docker under the same constraints the kubelet applies (user,
// read-only root, no capabilities, no privilege escalation, sysctls, limits, volumes): proves that the
// manifests' security settings and writable paths fit the real images.
//
// The Docker part needs the three images built. It runs when MYDOCS_POD_RUN_IMAGES names them, e.g.
//   MYDOCS_POD_RUN_IMAGES=backend=mydocs-backend:dev,ui=mydocs-ui:dev,mongo=mydocs-local/ferretdb:1.24.2 \
//     npx vitest run --root test/pipeline k8s/podrun.test.ts
// and is reported as skipped otherwise. The argument mapping is always tested.
import { execFileSync, spawnSync } from "node:child_process"
import { readFileSync, statSync } from "node:fs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cpuToDocker, dockerRunArgs, memoryToDocker, type PodRun } from "./lib/podrun.js"
import { K8sCopy, type K8sObject } from "./lib/render.js"

let k3d: K8sObject[]
beforeAll(() => {
  const c = new K8sCopy()
  try {
    k3d = c.render("overlays/k3d")
  } finally {
    c.dispose()
  }
})

const opt = (name: string) => ({ image: `img-${name}`, name: `c-${name}`, network: "net", alias: name })
const after = (args: string[], flag: string) => args.flatMap((a, i) => (a === flag ? [args[i + 1]!] : []))

describe("mapping a Deployment to docker run", () => {
  it("quantities", () => {
    expect(memoryToDocker("512Mi")).toBe("512m")
    expect(memoryToDocker("1Gi")).toBe("1g")
    expect(cpuToDocker("200m")).toBe("0.2")
    expect(cpuToDocker("1")).toBe("1")
    expect(() => memoryToDocker("lots")).toThrow(/not understood/)
  })

  it("ui: uid 101, read-only, no capabilities, the port sysctl, tmpfs for nginx, limits", () => {
    const run = dockerRunArgs(k3d, "ui", opt("ui"))
    try {
      const a = run.args
      expect(after(a, "--user")).toEqual(["101:101"])
      expect(a).toContain("--read-only")
      expect(after(a, "--cap-drop")).toEqual(["ALL"])
      expect(after(a, "--cap-add")).toEqual([])
      expect(after(a, "--security-opt")).toEqual(["no-new-privileges"])
      expect(after(a, "--sysctl")).toEqual(["net.ipv4.ip_unprivileged_port_start=80"])
      expect(after(a, "-v").map((t) => t.split(":")[1])).toEqual(["/tmp", "/var/cache/nginx", "/run"])
      expect(after(a, "--memory")).toEqual(["128m"])
      expect(after(a, "--cpus")).toEqual(["0.2"])
      expect(a.at(-1)).toBe("img-ui")
    } finally {
      run.dispose()
    }
  })

  it("backend: fsGroup, the claim writable by it, parser.yml read-only, the Secret only in an env file", () => {
    const run = dockerRunArgs(k3d, "backend", opt("backend"))
    try {
      const a = run.args
      expect(after(a, "--user")).toEqual(["10001:10001"])
      expect(after(a, "--group-add")).toEqual(["10001"])
      const mounts = after(a, "-v")
      const data = mounts.find((m) => m.endsWith(":/app/data"))!
      const st = statSync(data.split(":")[0]!)
      expect([st.gid, st.mode & 0o7777]).toEqual([10001, 0o2775])
      expect(mounts.find((m) => m.endsWith(":/tmp"))).toBeTruthy()
      const cfg = mounts.find((m) => m.endsWith(":/app/config:ro"))!
      expect(cfg).toMatch(/:\/app\/config:ro$/)
      expect(readFileSync(`${cfg.split(":")[0]}/parser.yml`, "utf8")).toContain("azure_di_model")
      const envFile = after(a, "--env-file")[0]!
      const env = readFileSync(envFile, "utf8")
      expect(env).toContain("MONGO_URL=mongodb://mongo:27017/\n")
      expect(env).toContain("DATA_FOLDER=/app/data\n")
      expect(a.join(" ")).not.toContain("MONGO_URL")
    } finally {
      run.dispose()
    }
  })

  it("starts from the kernel's unprivileged port limit, not Docker's 0", () => {
    const objs = structuredClone(k3d)
    delete objs.find((o) => o.kind === "Deployment" && o.metadata.name === "ui")!.spec.template.spec.securityContext.sysctls
    const run = dockerRunArgs(objs, "ui", opt("ui"))
    run.dispose()
    expect(after(run.args, "--sysctl")).toEqual(["net.ipv4.ip_unprivileged_port_start=1024"])
  })

  it("refuses what it cannot emulate", () => {
    const objs = structuredClone(k3d)
    const d = objs.find((o) => o.kind === "Deployment" && o.metadata.name === "backend")!
    d.spec.template.spec.containers[0].volumeMounts[0].subPath = "x"
    expect(() => dockerRunArgs(objs, "backend", opt("backend"))).toThrow(/subPath/)
    delete d.spec.template.spec.securityContext.runAsUser
    d.spec.template.spec.containers[0].volumeMounts[0].subPath = undefined
    expect(() => dockerRunArgs(objs, "backend", opt("backend"))).toThrow(/runAsUser/)
  })
})

const IMAGES = Object.fromEntries(
  (process.env.MYDOCS_POD_RUN_IMAGES ?? "")
    .split(",")
    .filter((p) => p.includes("="))
    .map((p) => p.split("=", 2) as [string, string]),
)
const enabled = ["backend", "ui", "mongo"].every((k) => IMAGES[k])

describe.skipIf(!enabled)("the k3d pods under their security context, with Docker (MYDOCS_POD_RUN_IMAGES)", () => {
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
        const r = await fetch(`${base}/health/ready`)
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

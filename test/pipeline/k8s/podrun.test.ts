// The k3d overlay's Deployments mapped to `docker run` arguments (user, read-only root, capabilities,
// sysctls, limits, volumes). Running the pods themselves with Docker is podrun.docker.test.ts, which
// needs the built images and runs in scripts/test-e2e.sh.
import { readFileSync, statSync } from "node:fs"
import { beforeAll, describe, expect, it } from "vitest"
import { cpuToDocker, dockerRunArgs, memoryToDocker } from "./lib/podrun.js"
import { renderCopy, type K8sObject } from "./lib/render.js"

let k3d: K8sObject[]
beforeAll(() => {
  k3d = renderCopy("overlays/k3d")
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
// Policies over every rendered overlay, each shown to catch a deliberately broken copy.
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { stampImages } from "../../../.dagger/src/overlay.js"
import {
  backendEnvMatchesSettings,
  latestImages,
  nginxUpstreams,
  nginxUpstreamsMatchServices,
  parserConfigMap,
  podSecurityRestricted,
  portsExposed,
  resourcesAndProbes,
  rolloutSafety,
  secretTemplateMatchesSettings,
  selectorsMatchPods,
} from "./lib/policy.js"
import {
  AZURE_BLOB_OVERLAY,
  backendVariables,
  checkParser,
  type ConfigVariable,
  K8S,
  K8sCopy,
  type K8sObject,
  parseObjects,
  REPO,
  testSelfHostedSecret,
} from "./lib/render.js"

const OVERLAYS = ["base", "overlays/k3d", "overlays/azure", "overlays/azure-blob-test", "overlays/self-hosted"] as const
type Overlay = (typeof OVERLAYS)[number]

let copy: K8sCopy
const r: Record<string, K8sObject[]> = {}
let vars: ConfigVariable[]

beforeAll(() => {
  copy = new K8sCopy()
  copy.write("overlays/azure-blob-test/kustomization.yaml", AZURE_BLOB_OVERLAY)
  copy.write("overlays/self-hosted/secret.yml", testSelfHostedSecret(readFileSync(join(K8S, "base/secret.yml.example"), "utf8")))
  for (const o of OVERLAYS) r[o] = copy.render(o)
  vars = backendVariables()
})
afterAll(() => copy?.dispose())

const clone = (o: Overlay = "overlays/k3d") => structuredClone(r[o]!)
const obj = (objs: K8sObject[], kind: string, name: string): any => {
  const o = objs.find((x) => x.kind === kind && x.metadata.name === name)
  if (!o) throw new Error(`${kind} ${name} not rendered`)
  return o
}
const backend = (objs: K8sObject[]) => obj(objs, "Deployment", "backend").spec.template.spec.containers[0]
const ui = (objs: K8sObject[]) => obj(objs, "Deployment", "ui")

describe("requests, limits and probes", () => {
  for (const o of OVERLAYS) it(`${o}: every container has them`, () => expect(resourcesAndProbes(r[o]!)).toEqual([]))
  it("catches a missing memory limit and a missing readiness probe", () => {
    const objs = clone()
    delete backend(objs).resources.limits.memory
    delete ui(objs).spec.template.spec.containers[0].readinessProbe
    expect(resourcesAndProbes(objs)).toEqual([
      "Deployment mydocs/backend container backend: no resources.limits.memory",
      "Deployment mydocs/ui container ui: no readinessProbe",
    ])
  })
})

describe("selectors", () => {
  for (const o of OVERLAYS) it(`${o}: every selector matches a pod template`, () => expect(selectorsMatchPods(r[o]!)).toEqual([]))
  it("catches a Service, a PDB, a NetworkPolicy and a Deployment selecting nothing", () => {
    const objs = clone()
    obj(objs, "Service", "backend").spec.selector = { app: "mydocs-api" }
    obj(objs, "PodDisruptionBudget", "ui").spec.selector.matchLabels = { app: "mydocs-frontend" }
    obj(objs, "NetworkPolicy", "allow-ui-to-backend").spec.ingress[0].from[0].podSelector.matchLabels = { app: "ui" }
    obj(objs, "Deployment", "ui").spec.template.metadata.labels.app = "mydocs-web"
    const p = selectorsMatchPods(objs)
    expect(p).toContain("Deployment mydocs/ui: spec.selector does not match its own pod template labels")
    expect(p.some((l) => l.startsWith("Service mydocs/backend: selector"))).toBe(true)
    expect(p).toContain("PodDisruptionBudget mydocs/ui: selector matches no pod template")
    expect(p.some((l) => l.startsWith("NetworkPolicy mydocs/allow-ui-to-backend: ingress from podSelector"))).toBe(true)
  })
})

describe("ports", () => {
  for (const o of OVERLAYS) it(`${o}: Services, Ingress and NetworkPolicies name exposed ports`, () => expect(portsExposed(r[o]!)).toEqual([]))
  it("catches a Service targetPort no container exposes, and an Ingress port the Service lacks", () => {
    const objs = clone()
    obj(objs, "Service", "backend").spec.ports[0].targetPort = 8080
    obj(objs, "Ingress", "mydocs-ingress").spec.rules[0].http.paths[0].backend.service.port.number = 8080
    expect(portsExposed(objs)).toEqual([
      "Service mydocs/backend: port 8000 targets 8080, which no selected container exposes",
      'Ingress mydocs/mydocs-ingress: Service ui has no port {"number":8080}',
    ])
  })
  it("catches a renamed container port that the Service and NetworkPolicy still target by name", () => {
    const objs = clone()
    backend(objs).ports[0].name = "api"
    const p = portsExposed(objs)
    expect(p).toContain('Service mydocs/backend: port 8000 targets "http", which no selected container exposes')
    expect(p).toContain('NetworkPolicy mydocs/allow-ui-to-backend: port "http" is exposed by none of the selected pods')
  })
})

describe("nginx upstream vs the backend Service", () => {
  const NGINX = join(REPO, "deploy/nginx.conf")
  it("deploy/nginx.conf proxies only to Services that exist, on their ports", () => {
    expect(existsSync(NGINX), "deploy/nginx.conf (owned by the images area) must exist").toBe(true)
    const conf = readFileSync(NGINX, "utf8")
    expect(nginxUpstreams(conf).length).toBeGreaterThan(0)
    for (const o of OVERLAYS) expect(nginxUpstreamsMatchServices(conf, r[o]!), o).toEqual([])
  })
  const spec = `server {\n  listen 80;\n  location /api/ {\n    proxy_pass http://backend:8000;\n  }\n  location /health {\n    proxy_pass http://backend:8000;\n  }\n}\n`
  it("parses proxy_pass with variables and upstream blocks", () => {
    expect(nginxUpstreams(spec)).toEqual([{ host: "backend", port: 8000, line: 4 }, { host: "backend", port: 8000, line: 7 }])
    expect(nginxUpstreams("set $up http://backend.mydocs.svc.cluster.local:8000;\nproxy_pass $up;")).toEqual([
      { host: "backend.mydocs.svc.cluster.local", port: 8000, line: 2 },
    ])
    expect(nginxUpstreams("upstream api { server backend:8000; }\nlocation / { proxy_pass http://api; }")).toEqual([
      { host: "backend", port: 8000, line: 2 },
    ])
    expect(nginxUpstreamsMatchServices(spec, r["overlays/k3d"]!)).toEqual([])
  })
  it("catches a wrong upstream port, a wrong host, and a Service that moved", () => {
    expect(nginxUpstreamsMatchServices(spec.replace("backend:8000", "backend:8080"), r["overlays/k3d"]!)).toEqual([
      "nginx.conf:4: Service backend has no port 8080",
    ])
    expect(nginxUpstreamsMatchServices(spec.replaceAll("backend:8000", "api:8000"), r["overlays/k3d"]!)).toHaveLength(2)
    const objs = clone()
    obj(objs, "Service", "backend").spec.ports[0].port = 80
    expect(nginxUpstreamsMatchServices(spec, objs)).toHaveLength(2)
    expect(nginxUpstreamsMatchServices("location / { root /x; }", objs)).toHaveLength(1)
  })
})

describe("Secret keys and variables vs the backend's settings (mydocs config keys --json)", () => {
  it("the backend's list is the real one", () => {
    const names = vars.map((v) => v.name)
    expect(names).toContain("MONGO_URL")
    expect(vars.find((v) => v.name === "MONGO_URL")!.required).toBe(true)
  })
  it("secret.yml.example holds exactly the variables the backend marks secret", () => {
    const tpl = parseObjects(readFileSync(join(K8S, "base/secret.yml.example"), "utf8"))[0]!
    expect(secretTemplateMatchesSettings(tpl, vars)).toEqual([])
    const bad = structuredClone(tpl)
    bad.stringData.MONGO_URI = "x"
    delete bad.stringData.AZURE_STORAGE_CONTAINER_NAME
    bad.stringData.DATA_FOLDER = "/x"
    expect(secretTemplateMatchesSettings(bad, vars)).toEqual([
      "secret.yml.example: key MONGO_URI is not a variable the backend reads",
      "secret.yml.example: DATA_FOLDER is a plain setting (secret: false), not a Secret key",
      "secret.yml.example: missing key AZURE_STORAGE_CONTAINER_NAME",
    ])
  })
  for (const o of ["overlays/k3d", "overlays/self-hosted"] as const) {
    it(`${o}: every Secret key and env name is read, every required variable is provided`, () => {
      expect(backendEnvMatchesSettings(r[o]!, vars)).toEqual([])
    })
  }
  for (const o of ["overlays/azure", "overlays/azure-blob-test"] as const) {
    it(`${o}: env names are read (the Secret comes from the pipeline)`, () => {
      expect(backendEnvMatchesSettings(r[o]!, vars, { externalSecret: true })).toEqual([])
    })
  }
  it("catches a Secret key the backend does not read, a required variable nobody sets, an unknown env", () => {
    const objs = clone()
    const secret = objs.find((x) => x.kind === "Secret")!
    secret.data.MONGO_URI = secret.data.MONGO_URL
    delete secret.data.MONGO_URL
    backend(objs).env.push({ name: "STORAGE_BACKEND", value: "local" })
    const p = backendEnvMatchesSettings(objs, vars)
    expect(p).toContain(`Secret mydocs/${secret.metadata.name}: key MONGO_URI is not a variable the backend reads`)
    expect(p).toContain("Deployment mydocs/backend: required variable MONGO_URL gets no value from env or a Secret")
    expect(p).toContain("Deployment mydocs/backend: env STORAGE_BACKEND is not a variable the backend reads")
    const noSecret = clone().filter((x) => x.kind !== "Secret")
    expect(backendEnvMatchesSettings(noSecret, vars)[0]).toMatch(/envFrom Secret mydocs-secrets-\w+ is not in the manifests/)
  })
})

describe("parser.yml in the ConfigMap vs the backend's own validator (mydocs config check-parser)", () => {
  for (const o of OVERLAYS) {
    it(`${o}: accepted`, () => {
      const res = checkParser(parserConfigMap(r[o]!).data["parser.yml"])
      expect(res.output).toMatch(/parser\.yml: ok$/)
      expect(res.ok).toBe(true)
    })
  }
  it("catches an unknown key and a bad value", () => {
    const text = parserConfigMap(r["overlays/k3d"]!).data["parser.yml"] as string
    const bad = checkParser(`${text}azure_di_modle: prebuilt-read\n`)
    expect(bad.ok).toBe(false)
    expect(bad.output).toMatch(/azure_di_modle/)
    const bad2 = checkParser(text.replace(/overlap_tokens: \d+/, "overlap_tokens: 5000"))
    expect(bad2.ok).toBe(false)
    expect(bad2.output).toMatch(/overlap_tokens/)
  })
})

describe('Pod Security "restricted"', () => {
  for (const o of OVERLAYS) it(`${o}: every pod complies`, () => expect(podSecurityRestricted(r[o]!)).toEqual([]))
  const cases: Array<[string, (objs: K8sObject[]) => void, string]> = [
    ["no seccomp profile", (o) => { delete ui(o).spec.template.spec.securityContext.seccompProfile }, "seccompProfile must be RuntimeDefault"],
    ["privilege escalation", (o) => { backend(o).securityContext.allowPrivilegeEscalation = true }, "allowPrivilegeEscalation must be false"],
    ["an added capability", (o) => { backend(o).securityContext.capabilities.add = ["SYS_ADMIN"] }, "adds capability SYS_ADMIN"],
    ["capabilities not dropped", (o) => { backend(o).securityContext.capabilities.drop = ["NET_RAW"] }, "drop must include ALL"],
    ["root", (o) => { backend(o).securityContext.runAsUser = 0 }, "runAsUser 0"],
    ["runAsNonRoot false", (o) => { backend(o).securityContext.runAsNonRoot = false }, "runAsNonRoot must be true"],
    ["no numeric user", (o) => { delete obj(o, "Deployment", "mongo").spec.template.spec.securityContext.runAsUser }, "numeric non-root runAsUser"],
    ["a hostPath volume", (o) => { ui(o).spec.template.spec.volumes.push({ name: "h", hostPath: { path: "/" } }) }, "volume h of type hostPath"],
    ["a writable root filesystem", (o) => { backend(o).securityContext.readOnlyRootFilesystem = false }, "readOnlyRootFilesystem must be true"],
    ["an unsafe sysctl", (o) => { ui(o).spec.template.spec.securityContext.sysctls.push({ name: "kernel.msgmax", value: "1" }) }, "sysctl kernel.msgmax"],
    ["hostNetwork", (o) => { ui(o).spec.template.spec.hostNetwork = true }, "hostNetwork"],
    ["a namespace not enforcing restricted", (o) => { obj(o, "Namespace", "mydocs").metadata.labels["pod-security.kubernetes.io/enforce"] = "baseline" }, "must be restricted"],
  ]
  for (const [what, mutate, msg] of cases) {
    it(`catches ${what}`, () => {
      const objs = clone()
      mutate(objs)
      const p = podSecurityRestricted(objs)
      expect(p.length).toBeGreaterThan(0)
      expect(p.join("\n")).toContain(msg)
    })
  }
})

describe("rollout safety", () => {
  for (const o of OVERLAYS) it(`${o}: no RWO claim with RollingUpdate or replicas, no ConfigMap subPath`, () => expect(rolloutSafety(r[o]!)).toEqual([]))
  it("catches a RollingUpdate or second replica on the ReadWriteOnce claim, and a subPath ConfigMap mount", () => {
    const objs = clone()
    const d = obj(objs, "Deployment", "backend")
    d.spec.strategy = { type: "RollingUpdate" }
    d.spec.replicas = 2
    backend(objs).volumeMounts.find((m: any) => m.name === "config").subPath = "parser.yml"
    expect(rolloutSafety(objs)).toEqual([
      "Deployment mydocs/backend: mounts a ReadWriteOnce claim with strategy RollingUpdate",
      "Deployment mydocs/backend: mounts a ReadWriteOnce claim with replicas > 1",
      "Deployment mydocs/backend: ConfigMap volume config mounted with subPath",
    ])
  })
})

describe("no :latest left in the azure overlay after stamping (stampImages of the Dagger module)", () => {
  const SHA = "3f2c9e1b7a5d4c6e8f0a1b2c3d4e5f6a7b8c9d0e"
  function stampedRender(images: Parameters<typeof stampImages>[1]): K8sObject[] {
    const c = new K8sCopy()
    try {
      const kz = c.path("overlays/azure/kustomization.yaml")
      c.write("overlays/azure/kustomization.yaml", stampImages(readFileSync(kz, "utf8"), images))
      c.write("overlays/azure-blob-test/kustomization.yaml", AZURE_BLOB_OVERLAY)
      return c.render("overlays/azure-blob-test")
    } finally {
      c.dispose()
    }
  }
  it("unstamped, the overlay still says :latest (so the check has teeth)", () => {
    expect(latestImages(r["overlays/azure"]!)).toHaveLength(2)
  })
  it("stamped with the ACR repository and the commit SHA: every image pinned", () => {
    const objs = stampedRender([
      { name: "mydocs-backend", newName: "mydocsacr.azurecr.io/mydocs-backend", newTag: SHA },
      { name: "mydocs-ui", newName: "mydocsacr.azurecr.io/mydocs-ui", newTag: SHA },
    ])
    expect(latestImages(objs)).toEqual([])
    const images = objs.filter((o) => o.kind === "Deployment").map((d: any) => d.spec.template.spec.containers[0].image).sort()
    expect(images).toEqual([`mydocsacr.azurecr.io/mydocs-backend:${SHA}`, `mydocsacr.azurecr.io/mydocs-ui:${SHA}`])
  })
  it("catches an image the stamp forgot", () => {
    const objs = stampedRender([{ name: "mydocs-backend", newName: "mydocsacr.azurecr.io/mydocs-backend", newTag: SHA }])
    expect(latestImages(objs)).toEqual(["Deployment mydocs/ui container ui: image mydocs-ui:latest is not pinned"])
  })
  it("treats a digest as pinned and a missing tag as not", () => {
    const objs = clone("overlays/azure")
    backend(objs).image = `mydocsacr.azurecr.io/mydocs-backend@sha256:${"a".repeat(64)}`
    ui(objs).spec.template.spec.containers[0].image = "registry.example.com:5000/mydocs-ui"
    expect(latestImages(objs)).toEqual([
      "Deployment mydocs/ui container ui: image registry.example.com:5000/mydocs-ui is not pinned",
    ])
  })
})

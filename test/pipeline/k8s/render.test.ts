// Every overlay renders with the real `kubectl kustomize`, and renders what issue 5 asks for.
import { spawnSync } from "node:child_process"
import { copyFileSync, readFileSync, readdirSync, statSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { AZURE_BLOB_OVERLAY, K8S, K8sCopy, type K8sObject, kustomize, parseObjects, RenderError, REPO, testSelfHostedSecret } from "./lib/render.js"

const find = (objs: K8sObject[], kind: string, name: string | RegExp) =>
  objs.find((o) => o.kind === kind && (typeof name === "string" ? o.metadata.name === name : name.test(o.metadata.name)))
const get = (objs: K8sObject[], kind: string, name: string | RegExp): any => {
  const o = find(objs, kind, name)
  if (!o) throw new Error(`${kind} ${name} not rendered`)
  return o
}
const container = (d: K8sObject, name: string) => d.spec.template.spec.containers.find((c: any) => c.name === name)

let copy: K8sCopy
let base: K8sObject[], k3d: K8sObject[], azure: K8sObject[], azureBlob: K8sObject[], selfHosted: K8sObject[]

beforeAll(() => {
  copy = new K8sCopy()
  copy.write("overlays/azure-blob-test/kustomization.yaml", AZURE_BLOB_OVERLAY)
  copy.write("overlays/self-hosted/secret.yml", testSelfHostedSecret(readFileSync(join(K8S, "base/secret.yml.example"), "utf8")))
  base = copy.render("base")
  k3d = copy.render("overlays/k3d")
  azure = copy.render("overlays/azure")
  azureBlob = copy.render("overlays/azure-blob-test")
  selfHosted = copy.render("overlays/self-hosted")
})
afterAll(() => copy?.dispose())

describe("base", () => {
  it("holds the spec's objects in namespace mydocs", () => {
    expect(get(base, "Namespace", "mydocs")).toBeTruthy()
    for (const o of base) if (o.kind !== "Namespace") expect(o.metadata.namespace, `${o.kind} ${o.metadata.name}`).toBe("mydocs")
    const pvc = get(base, "PersistentVolumeClaim", "mydocs-data")
    expect(pvc.spec.accessModes).toEqual(["ReadWriteOnce"])
    expect(pvc.spec.resources.requests.storage).toBe("10Gi")
    expect(pvc.spec.storageClassName).toBeUndefined()
    expect(get(base, "Service", "backend").spec.ports[0].port).toBe(8000)
    expect(get(base, "Service", "ui").spec.ports[0].port).toBe(80)
    expect(get(base, "Deployment", "backend").spec.strategy.type).toBe("Recreate")
    expect(get(base, "PodDisruptionBudget", "ui").spec.minAvailable).toBe(1)
    expect(base.filter((o) => o.kind === "NetworkPolicy").map((o) => o.metadata.name).sort()).toEqual([
      "allow-ingress-controller-to-ui", "allow-ui-to-backend", "default-deny-ingress",
    ])
    expect(find(base, "Secret", /.*/)).toBeUndefined() // secret.yml.example is not applied
  })

  it("mounts parser.yml from a hash-named ConfigMap at /app/config (no subPath)", () => {
    const cm = get(base, "ConfigMap", /^mydocs-config-[a-z0-9]{10}$/)
    expect(cm.data["parser.yml"]).toContain("azure_di_model")
    const dep = get(base, "Deployment", "backend")
    const vol = dep.spec.template.spec.volumes.find((v: any) => v.name === "config")
    expect(vol.configMap.name).toBe(cm.metadata.name)
    const mount = container(dep, "backend").volumeMounts.find((m: any) => m.name === "config")
    expect(mount).toMatchObject({ mountPath: "/app/config" })
    expect(mount.subPath).toBeUndefined()
  })

  it("rolls the backend when parser.yml changes (new ConfigMap name, new pod template)", () => {
    const other = new K8sCopy()
    try {
      other.write("base/parser.yml", readFileSync(join(K8S, "base/parser.yml"), "utf8") + "max_pages: 50\n")
      const changed = other.render("base")
      const before = get(base, "ConfigMap", /^mydocs-config-/).metadata.name
      const after = get(changed, "ConfigMap", /^mydocs-config-/).metadata.name
      expect(after).not.toBe(before)
      const vol = get(changed, "Deployment", "backend").spec.template.spec.volumes.find((v: any) => v.name === "config")
      expect(vol.configMap.name).toBe(after)
    } finally {
      other.dispose()
    }
  })

  it("probes the backend on /health (liveness, startup) and /health/ready (readiness)", () => {
    const c = container(get(base, "Deployment", "backend"), "backend")
    expect(c.livenessProbe.httpGet.path).toBe("/health")
    expect(c.startupProbe.httpGet.path).toBe("/health")
    expect(c.readinessProbe.httpGet.path).toBe("/health/ready")
    expect(c.resources).toEqual({ requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } })
    const ui = container(get(base, "Deployment", "ui"), "ui")
    expect(ui.resources).toEqual({ requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } })
    expect(c.env).toEqual([{ name: "DATA_FOLDER", value: "/app/data" }, { name: "CONFIG_ROOT", value: "/app/config" }])
  })

  it("routes the ingress to the ui with 101m bodies (100 MiB files plus multipart framing) and long timeouts", () => {
    const ing = get(base, "Ingress", "mydocs-ingress")
    expect(ing.spec.ingressClassName).toBe("nginx")
    expect(ing.spec.rules[0].host).toBe("mydocs.example.com")
    expect(ing.metadata.annotations["nginx.ingress.kubernetes.io/proxy-body-size"]).toBe("101m")
    expect(Number(ing.metadata.annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"])).toBeGreaterThanOrEqual(300)
    expect(Number(ing.metadata.annotations["nginx.ingress.kubernetes.io/proxy-send-timeout"])).toBeGreaterThanOrEqual(300)
    expect(ing.spec.tls).toBeUndefined()
  })

  it("puts the recommended labels on every object, and no kustomization uses deprecated fields", () => {
    for (const o of base) {
      expect(o.metadata.labels?.["app.kubernetes.io/part-of"], `${o.kind} ${o.metadata.name}`).toBe("mydocs")
      expect(o.metadata.labels?.["app.kubernetes.io/managed-by"]).toBe("kustomize")
    }
    for (const o of base.filter((x) => x.kind === "Deployment")) {
      expect(o.spec.template.metadata.labels["app.kubernetes.io/name"]).toMatch(/^mydocs-/)
      expect(o.spec.template.metadata.labels["app.kubernetes.io/component"]).toBeTruthy()
    }
    const walk = (dir: string): string[] =>
      readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)]))
    for (const f of walk(K8S).filter((p) => p.endsWith("kustomization.yaml"))) {
      const text = readFileSync(f, "utf8")
      for (const field of ["commonLabels:", "vars:", "bases:", "patchesStrategicMerge:", "patchesJson6902:"]) {
        expect(text.includes(`\n${field}`) || text.startsWith(field), `${f} uses ${field}`).toBe(false)
      }
    }
  })
})

describe("overlay self-hosted", () => {
  it("fails to build without secret.yml, and kustomize's message names secret.yml", () => {
    const bare = new K8sCopy()
    try {
      expect(() => kustomize(bare.path("overlays/self-hosted"))).toThrow(RenderError)
      expect(() => kustomize(bare.path("overlays/self-hosted"))).toThrow(/secret\.yml/)
    } finally {
      bare.dispose()
    }
  })

  it("check-secret.sh says what to create, refuses the unfilled template, accepts a filled secret", () => {
    const c = new K8sCopy()
    try {
      const script = c.path("overlays/self-hosted/check-secret.sh")
      let r = spawnSync(script, { encoding: "utf8" })
      expect(r.status).toBe(1)
      expect(r.stderr).toContain("deploy/k8s/overlays/self-hosted/secret.yml is missing")
      expect(r.stderr).toContain("cp deploy/k8s/base/secret.yml.example deploy/k8s/overlays/self-hosted/secret.yml")
      copyFileSync(c.path("base/secret.yml.example"), c.path("overlays/self-hosted/secret.yml"))
      r = spawnSync(script, { encoding: "utf8" })
      expect(r.status).toBe(1)
      expect(r.stderr).toContain("MONGO_URL is empty")
      c.write("overlays/self-hosted/secret.yml", readFileSync(join(K8S, "base/secret.yml.example"), "utf8")
        .replace('MONGO_URL: ""', 'MONGO_URL: "mongodb://db.example.internal:27017/"'))
      r = spawnSync(script, { encoding: "utf8" })
      expect(r.stderr).toBe("")
      expect(r.status).toBe(0)
      c.write("overlays/self-hosted/secret.yml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n")
      r = spawnSync(script, { encoding: "utf8" })
      expect(r.status).toBe(1)
      expect(r.stderr).toContain("must define the Secret named mydocs-secrets")
    } finally {
      c.dispose()
    }
  })

  it("keeps the user's secret.yml out of git", () => {
    const r = spawnSync("git", ["check-ignore", "--no-index", "-q", "deploy/k8s/overlays/self-hosted/secret.yml"], { cwd: REPO })
    expect(r.status).toBe(0)
  })

  it("renders the base plus the user's Secret", () => {
    const s = get(selfHosted, "Secret", "mydocs-secrets")
    expect(s.metadata.namespace).toBe("mydocs")
    expect(selfHosted.length).toBe(base.length + 1)
  })
})

describe("overlay azure", () => {
  it("patches TLS and cert-manager letsencrypt-prod into the ingress, keeping the base annotations", () => {
    const ing = get(azure, "Ingress", "mydocs-ingress")
    expect(ing.metadata.annotations["cert-manager.io/cluster-issuer"]).toBe("letsencrypt-prod")
    expect(ing.metadata.annotations["nginx.ingress.kubernetes.io/proxy-body-size"]).toBe("101m")
    expect(ing.spec.tls).toEqual([{ hosts: ["mydocs.example.com"], secretName: "mydocs-tls" }])
  })

  it("leaves the Secret to the pipeline and the images to stamping", () => {
    expect(find(azure, "Secret", /.*/)).toBeUndefined()
    const kz = parseObjects(readFileSync(join(K8S, "overlays/azure/kustomization.yaml"), "utf8"))[0] as any
    expect(kz.images.map((i: any) => i.name).sort()).toEqual(["mydocs-backend", "mydocs-ui"])
  })

  it("with the azure-blob-workload-identity component: azure_blob, workload identity, >1 replica, rolling, no PVC", () => {
    const dep = get(azureBlob, "Deployment", "backend")
    expect(dep.spec.replicas).toBeGreaterThan(1)
    expect(dep.spec.strategy.type).toBe("RollingUpdate")
    expect(dep.spec.template.metadata.labels["azure.workload.identity/use"]).toBe("true")
    expect(dep.spec.template.spec.serviceAccountName).toBe("mydocs-backend")
    const sa = get(azureBlob, "ServiceAccount", "mydocs-backend")
    expect(sa.metadata.annotations["azure.workload.identity/client-id"]).toMatch(/^[0-9a-f-]{36}$/)
    expect(container(dep, "backend").env).toContainEqual({ name: "MYDOCS_STORAGE_BACKEND", value: "azure_blob" })
    expect(find(azureBlob, "PersistentVolumeClaim", /.*/)).toBeUndefined()
    expect(dep.spec.template.spec.volumes.some((v: any) => v.persistentVolumeClaim)).toBe(false)
    expect(get(azureBlob, "Ingress", "mydocs-ingress").spec.tls).toBeTruthy()
  })
})

describe("overlay k3d", () => {
  it("never pulls: every container has imagePullPolicy IfNotPresent", () => {
    for (const d of k3d.filter((o) => o.kind === "Deployment")) {
      for (const c of d.spec.template.spec.containers) expect(c.imagePullPolicy, `${d.metadata.name}/${c.name}`).toBe("IfNotPresent")
    }
    expect(container(get(k3d, "Deployment", "mongo"), "mongo").image).toMatch(/^mydocs-test-mongo(:|$)/)
  })

  it("generates the test Secret: auth off, local storage, MongoDB in the cluster", () => {
    const s = get(k3d, "Secret", /^mydocs-secrets-[a-z0-9]{10}$/)
    const env = Object.fromEntries(Object.entries(s.data).map(([k, v]) => [k, Buffer.from(String(v), "base64").toString()]))
    expect(env.ENTRA_TENANT_ID ?? "").toBe("")
    expect(env.MYDOCS_STORAGE_BACKEND).toBe("local")
    const m = /^mongodb:\/\/([^:/]+):(\d+)\//.exec(env.MONGO_URL!)
    expect(m).not.toBeNull()
    const svc = get(k3d, "Service", m![1]!)
    expect(svc.spec.ports.map((p: any) => p.port)).toContain(Number(m![2]))
    const dep = get(k3d, "Deployment", "backend")
    expect(container(dep, "backend").envFrom).toEqual([{ secretRef: { name: s.metadata.name } }])
  })

  it("lets the ingress answer any host name (reached as http://localhost:<port> through k3d's load balancer)", () => {
    const ing = get(k3d, "Ingress", "mydocs-ingress")
    expect(ing.spec.ingressClassName).toBe("nginx")
    expect(ing.spec.rules[0].host).toBeUndefined()
    expect(ing.spec.rules[0].http.paths[0].backend.service).toEqual({ name: "ui", port: { number: 80 } })
  })
})

// The manifests on a real Kubernetes v1.34.4 cluster (scripts/cluster.sh up: API server, kubelet,
// containerd, CoreDNS, local-path-provisioner, Traefik), after `up` applied the k3d overlay with our
// images: admission (Pod Security "restricted", every overlay server-side), rollouts, probes, the PVC,
// a ConfigMap change rolling the pods, a broken image tag detected and undone.
//
// scripts/test-cluster.sh runs it with the variables `cluster.sh up` prints:
//   eval "$(bash scripts/cluster.sh up)"; npx vitest run --root test/pipeline k8s/live.cluster.test.ts
// The pipeline suite leaves *.cluster.test.ts out (vitest.config.ts) unless MYDOCS_CLUSTER_NODE is set;
// run without the cluster's variables, this file fails instead of skipping.
import { execFileSync, spawnSync } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { K8S, K8sCopy, kustomize, testSelfHostedSecret, AZURE_BLOB_OVERLAY } from "./lib/render.js"

const need = ["KUBECONFIG", "BASE_URL", "MYDOCS_CLUSTER_NODE", "MYDOCS_CLUSTER_NAMESPACE"].filter((v) => !process.env[v])
if (need.length > 0) throw new Error(`run after eval "$(bash scripts/cluster.sh up)": missing ${need.join(", ")}`)
const NS = process.env.MYDOCS_CLUSTER_NAMESPACE!
const BASE_URL = process.env.BASE_URL!
const KUBECTL = process.env.KUBECTL ?? "kubectl"

function kubectl(...args: string[]): string {
  const r = spawnSync(KUBECTL, args, { encoding: "utf8", maxBuffer: 64 << 20 })
  if (r.status !== 0) throw new Error(`kubectl ${args.join(" ")} failed (${r.status}): ${r.stderr.trim()}`)
  return r.stdout
}
/** kubectl that may fail: status and both streams */
function kubectlTry(args: string[], input?: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(KUBECTL, args, { encoding: "utf8", input, maxBuffer: 64 << 20 })
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
}
const json = (...args: string[]) => JSON.parse(kubectl(...args, "-o", "json"))
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function status(path: string): Promise<number> {
  return (await fetch(`${BASE_URL}${path}`)).status
}

describe("admission on the real API server", () => {
  it("the namespace enforces Pod Security restricted, and the API server refuses a pod short of it", () => {
    const ns = json("get", "namespace", NS)
    expect(ns.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("restricted")
    const rootPod = JSON.stringify({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "psa-probe", namespace: NS },
      spec: { containers: [{ name: "c", image: "mydocs-backend:latest", securityContext: { runAsUser: 0 } }] },
    })
    const r = kubectlTry(["apply", "--dry-run=server", "-f", "-"], rootPod)
    expect(r.status).not.toBe(0)
    expect(r.stderr).toMatch(/violates PodSecurity "restricted:latest"/)
  })

  // every object of every overlay passes validation and admission (the test overlay is applied for real)
  const overlays: Array<[string, (c: K8sCopy) => string]> = [
    ["azure", (c) => c.path("overlays/azure")],
    ["azure + azure-blob-workload-identity", (c) => {
      c.write("overlays/azure-blob/kustomization.yaml", AZURE_BLOB_OVERLAY)
      return c.path("overlays/azure-blob")
    }],
    ["self-hosted (secret.yml from the template)", (c) => {
      c.write("overlays/self-hosted/secret.yml", testSelfHostedSecret(readFileSync(join(K8S, "base/secret.yml.example"), "utf8")))
      return c.path("overlays/self-hosted")
    }],
  ]
  for (const [name, dir] of overlays) {
    it(`overlay ${name}: every object admitted (server-side dry run)`, () => {
      const c = new K8sCopy()
      try {
        const rendered = kustomize(dir(c))
        const r = kubectlTry(["apply", "--dry-run=server", "-f", "-"], rendered)
        expect(r.stderr.replace(/^Warning: .*\n?/gm, "")).toBe("")
        expect(r.status).toBe(0)
        const kinds = rendered.match(/^kind: /gm)?.length ?? 0
        expect(r.stdout.trim().split("\n").length).toBe(kinds)
      } finally {
        c.dispose()
      }
    })
  }
})

describe("the test overlay, running", () => {
  it("every Deployment rolled out with all replicas available, on our loaded images", () => {
    const deps = json("-n", NS, "get", "deployments").items
    expect(deps.map((d: any) => d.metadata.name).sort()).toEqual(["backend", "mongo", "ui"])
    for (const d of deps) {
      expect(d.status.availableReplicas, d.metadata.name).toBe(d.spec.replicas)
      expect(d.status.updatedReplicas, d.metadata.name).toBe(d.spec.replicas)
    }
    const pods = json("-n", NS, "get", "pods").items
    const images = new Map<string, string>()
    for (const p of pods) for (const c of p.status.containerStatuses) images.set(c.image, c.imageID)
    // the overlay's names, resolved by containerd to the images scripts/cluster.sh loaded (never pulled)
    expect([...images.keys()].sort()).toEqual([
      "docker.io/library/mydocs-backend:latest", "docker.io/library/mydocs-test-mongo:latest", "docker.io/library/mydocs-ui:latest",
    ])
    const node = process.env.MYDOCS_CLUSTER_NODE!
    const loaded = execFileSync("docker", ["exec", node, "ctr", "-n", "k8s.io", "images", "ls"], { encoding: "utf8" })
    for (const id of images.values()) expect(loaded).toContain(id.replace(/^.*@/, ""))
  })

  it("readiness and liveness probes pass: every pod Ready, no restart, no failed probe", async () => {
    // outlast one liveness period (30 s) of the youngest pod
    await sleep(35_000)
    const pods = json("-n", NS, "get", "pods").items
    for (const p of pods) {
      const ready = p.status.conditions.find((c: any) => c.type === "Ready")
      expect(ready?.status, p.metadata.name).toBe("True")
      for (const c of p.status.containerStatuses) {
        expect(c.restartCount, `${p.metadata.name}/${c.name}`).toBe(0)
        const spec = p.spec.containers.find((s: any) => s.name === c.name)
        expect(spec.readinessProbe, `${c.name} readinessProbe`).toBeDefined()
        expect(spec.livenessProbe, `${c.name} livenessProbe`).toBeDefined()
      }
    }
    const events = json("-n", NS, "get", "events", "--field-selector", "reason=Unhealthy").items
    const current = new Set(pods.map((p: any) => p.metadata.name))
    // a startup probe's first misses while a pod starts are expected; liveness or readiness failures are not
    const failed = events.filter((e: any) => current.has(e.involvedObject.name) && !/Startup probe/.test(e.message))
    expect(failed.map((e: any) => `${e.involvedObject.name}: ${e.message}`)).toEqual([])
  })

  it("the backend's PVC is bound by the cluster's default provisioner, on the node's disk", () => {
    const pvc = json("-n", NS, "get", "pvc", "mydocs-data")
    expect(pvc.status.phase).toBe("Bound")
    expect(pvc.spec.storageClassName).toBe("local-path")
    const pv = json("get", "pv", pvc.spec.volumeName)
    expect(pv.spec.hostPath?.path ?? pv.spec.local?.path).toMatch(/^\/var\/lib\/mydocs-local-path\//)
  })

  it("serves the SPA and /health through the Ingress (Traefik, IngressClass nginx)", async () => {
    expect(await status("/health")).toBe(200)
    expect(await status("/")).toBe(200)
    const ing = json("-n", NS, "get", "ingress", "mydocs-ingress")
    expect(ing.spec.ingressClassName).toBe("nginx")
  })
})

describe("changes on the live cluster", () => {
  const overlay = join(K8S, "overlays/k3d")
  const backendPods = () => json("-n", NS, "get", "pods", "-l", "app.kubernetes.io/name=mydocs-backend").items
    .filter((p: any) => !p.metadata.deletionTimestamp).map((p: any) => p.metadata.name).sort()
  afterAll(() => {
    // leave the cluster as `up` made it for the suites after this one
    kubectl("apply", "-k", overlay)
    kubectl("-n", NS, "rollout", "status", "deployment/backend", "--timeout=180s")
    kubectl("-n", NS, "rollout", "status", "deployment/ui", "--timeout=180s")
  })

  it("a change of parser.yml (ConfigMap) rolls the backend pods onto the new ConfigMap", () => {
    const before = backendPods()
    const c = new K8sCopy()
    try {
      writeFileSync(c.path("base/parser.yml"), `${readFileSync(c.path("base/parser.yml"), "utf8")}\n# changed by live.cluster.test.ts\n`)
      kubectl("apply", "-k", c.path("overlays/k3d"))
    } finally {
      c.dispose()
    }
    kubectl("-n", NS, "rollout", "status", "deployment/backend", "--timeout=180s")
    const after = backendPods()
    expect(after.length).toBe(1)
    expect(after).not.toEqual(before)
    const dep = json("-n", NS, "get", "deployment", "backend")
    const cm = dep.spec.template.spec.volumes.find((v: any) => v.configMap)?.configMap.name
    const data = json("-n", NS, "get", "configmap", cm).data["parser.yml"]
    expect(data).toContain("# changed by live.cluster.test.ts")
  })

  it("a broken image tag: the rollout fails within its timeout, the old pods keep serving, undo restores it", async () => {
    const started = Date.now()
    kubectl("-n", NS, "set", "image", "deployment/ui", "ui=mydocs-ui:no-such-tag")
    const r = kubectlTry(["-n", NS, "rollout", "status", "deployment/ui", "--timeout=45s"])
    expect(r.status).not.toBe(0)
    expect(Date.now() - started).toBeLessThan(90_000)
    const waiting = json("-n", NS, "get", "pods", "-l", "app.kubernetes.io/name=mydocs-ui").items
      .flatMap((p: any) => p.status.containerStatuses ?? []).map((c: any) => c.state.waiting?.reason).filter(Boolean)
    expect(waiting.some((w: string) => /ErrImagePull|ImagePullBackOff/.test(w))).toBe(true)
    expect(await status("/")).toBe(200)   // maxUnavailable keeps old pods serving
    kubectl("-n", NS, "rollout", "undo", "deployment/ui")
    kubectl("-n", NS, "rollout", "status", "deployment/ui", "--timeout=120s")
    const images = json("-n", NS, "get", "deployment", "ui").spec.template.spec.containers.map((c: any) => c.image)
    expect(images).toEqual(["mydocs-ui:latest"])
    expect(await status("/")).toBe(200)
  })
})

beforeAll(() => {
  kubectl("get", "--raw", "/readyz")
})

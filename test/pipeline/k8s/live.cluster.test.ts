// The manifests on a real Kubernetes v1.34.4 cluster (scripts/cluster.sh up: API server, kubelet,
// containerd, CoreDNS, local-path-provisioner, Traefik), after `up` applied the k3d overlay with our
// images: admission (Pod Security "restricted", every overlay server-side), rollouts, probes, the PVC,
// a ConfigMap change rolling the pods, and deployAks's deploy script: a bad image detected and rolled
// back, the rollback after a failed smoke test.
//
// scripts/test-cluster.sh runs it with the variables `cluster.sh up` prints:
//   eval "$(bash scripts/cluster.sh up)"; npx vitest run --root test/pipeline k8s/live.cluster.test.ts
// The pipeline suite leaves *.cluster.test.ts out (vitest.config.ts) unless MYDOCS_CLUSTER_NODE is set;
// run without the cluster's variables, this file fails instead of skipping.
import { execFileSync, spawn, spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { DEPLOY_EXIT, deployScript, previousRevisions, rollbackScript, type DeploymentRef } from "../../../.dagger/src/scripts.js"
import { K8S, K8sCopy, kustomize, testSelfHostedSecret, AZURE_BLOB_OVERLAY } from "./lib/render.js"

const need = ["KUBECONFIG", "MYDOCS_CLUSTER_URL", "MYDOCS_CLUSTER_NODE", "MYDOCS_CLUSTER_NAMESPACE", "MYDOCS_CLUSTER_IMAGES"].filter((v) => !process.env[v])
if (need.length > 0) throw new Error(`run after eval "$(bash scripts/cluster.sh up)": missing ${need.join(", ")}`)
const NS = process.env.MYDOCS_CLUSTER_NAMESPACE!
const BASE_URL = process.env.MYDOCS_CLUSTER_URL!   // BASE_URL itself is overwritten by Vite in workers
/** the overlay's image name -> the local image cluster.sh loaded under it */
const LOADED = new Map(process.env.MYDOCS_CLUSTER_IMAGES!.split(",").map((p) => p.split("=", 2) as [string, string]))
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
    const seen = new Set<string>()
    for (const p of pods) {
      for (const c of p.status.containerStatuses) {
        const specImage = p.spec.containers.find((s: any) => s.name === c.name).image
        const local = LOADED.get(specImage)
        expect(local, `${p.metadata.name}/${c.name} runs ${specImage}, which cluster.sh did not load`).toBeDefined()
        // the very image built here (containerd's image id is the config digest, as Docker's)
        const id = execFileSync("docker", ["image", "inspect", "-f", "{{.Id}}", local!], { encoding: "utf8" }).trim()
        expect(c.imageID, `${p.metadata.name}/${c.name}`).toBe(id)
        seen.add(specImage)
      }
    }
    expect([...seen].sort()).toEqual([...LOADED.keys()].sort())
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
  }, 300_000)

})

// The replicas > 1 configuration: the azure-blob-workload-identity component (two backend pods, no PVC)
// on the test overlay, with Azurite in the cluster as its Blob endpoint (a connection string instead of
// the workload identity no cluster here has). Each backend pod is reached on its own (port-forward).
const AZURITE_IMAGE = "mydocs-local/azurite:3.37.0"   // scripts/bootstrap-base-images.sh
const AZURITE = `apiVersion: apps/v1
kind: Deployment
metadata: {name: azurite, labels: {app.kubernetes.io/name: mydocs-test-azurite}}
spec:
  replicas: 1
  selector: {matchLabels: {app: mydocs-test-azurite}}
  template:
    metadata: {labels: {app: mydocs-test-azurite, app.kubernetes.io/name: mydocs-test-azurite}}
    spec:
      automountServiceAccountToken: false
      securityContext: {runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, fsGroup: 65534, seccompProfile: {type: RuntimeDefault}}
      containers:
        - name: azurite
          image: ${AZURITE_IMAGE}
          imagePullPolicy: Never
          ports: [{name: blob, containerPort: 10000}]
          securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
          readinessProbe: {tcpSocket: {port: blob}, periodSeconds: 2}
          volumeMounts: [{name: data, mountPath: /data}, {name: tmp, mountPath: /tmp}]
      volumes: [{name: data, emptyDir: {}}, {name: tmp, emptyDir: {}}]
---
apiVersion: v1
kind: Service
metadata: {name: azurite}
spec:
  selector: {app: mydocs-test-azurite}
  ports: [{name: blob, port: 10000, targetPort: blob}]
`
// Azurite's published development account (not a secret: https://learn.microsoft.com/azure/storage/common/storage-use-azurite)
const AZURITE_CONNECTION = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;" +
  "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;" +
  "BlobEndpoint=http://azurite:10000/devstoreaccount1;"
const AZURE_BLOB_TEST_OVERLAY = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: mydocs
resources:
  - ../k3d
  - azurite.yml
components:
  - ../../components/azure-blob-workload-identity
secretGenerator:
  - name: mydocs-secrets
    behavior: merge
    literals:
      - MYDOCS_STORAGE_BACKEND=azure_blob
      - AZURE_STORAGE_CONNECTION_STRING=${AZURITE_CONNECTION}
      - AZURE_STORAGE_CONTAINER_NAME=managed
`

/** `kubectl port-forward pod/NAME :8000`; resolves with the local URL once it forwards */
function portForward(pod: string): Promise<{ url: string; stop: () => void }> {
  return new Promise((resolvePf, reject) => {
    const child = spawn(KUBECTL, ["-n", NS, "port-forward", `pod/${pod}`, ":8000"], { stdio: ["ignore", "pipe", "pipe"] })
    let err = ""
    const timer = setTimeout(() => { child.kill(); reject(new Error(`port-forward ${pod}: no port in 30 s ${err}`)) }, 30_000)
    child.stderr.on("data", (d) => { err += d })
    child.stdout.on("data", (d) => {
      const m = /Forwarding from 127\.0\.0\.1:([0-9]+)/.exec(String(d))
      if (m) {
        clearTimeout(timer)
        resolvePf({ url: `http://127.0.0.1:${m[1]}`, stop: () => child.kill() })
      }
    })
    child.on("exit", (code) => { clearTimeout(timer); reject(new Error(`port-forward ${pod} exited ${code}: ${err}`)) })
  })
}

describe("replicas > 1 on azure_blob (Azurite in the cluster)", () => {
  const c = new K8sCopy()
  const forwards: Array<{ url: string; stop: () => void }> = []
  let pods: string[] = []
  beforeAll(async () => {
    execFileSync("bash", ["-c", `docker save ${AZURITE_IMAGE} | docker exec -i ${process.env.MYDOCS_CLUSTER_NODE} ctr -n k8s.io images import -`])
    c.write("overlays/azure-blob-test/azurite.yml", AZURITE)
    c.write("overlays/azure-blob-test/kustomization.yaml", AZURE_BLOB_TEST_OVERLAY)
    kubectl("apply", "-k", c.path("overlays/azure-blob-test"))
    kubectl("-n", NS, "rollout", "status", "deployment/azurite", "--timeout=180s")
    kubectl("-n", NS, "rollout", "status", "deployment/backend", "--timeout=240s")
    pods = json("-n", NS, "get", "pods", "-l", "app.kubernetes.io/name=mydocs-backend").items
      .filter((p: any) => !p.metadata.deletionTimestamp && p.status.phase === "Running").map((p: any) => p.metadata.name)
    for (const p of pods) forwards.push(await portForward(p))
  }, 400_000)
  afterAll(() => {
    for (const f of forwards) f.stop()
    c.dispose()
    // back to the test overlay as `up` applied it
    kubectl("apply", "-k", join(K8S, "overlays/k3d"))
    kubectlTry(["-n", NS, "delete", "deployment/azurite", "service/azurite", "--ignore-not-found"])
    kubectl("-n", NS, "rollout", "status", "deployment/backend", "--timeout=240s")
  }, 400_000)

  it("two backend pods run on azure_blob, without the PVC", async () => {
    expect(pods.length).toBe(2)
    const dep = json("-n", NS, "get", "deployment", "backend")
    expect(dep.spec.replicas).toBe(2)
    expect(dep.spec.template.spec.volumes.find((v: any) => v.name === "data").persistentVolumeClaim).toBeUndefined()
    for (const f of forwards) {
      const info = await (await fetch(`${f.url}/api/v1/info`)).json()
      expect(info.storage_backend).toBe("azure_blob")
    }
  })

  it("a document uploaded through one pod is listed and downloaded byte-identical through the other", async () => {
    const bytes = Buffer.from(Array.from({ length: 3 << 20 }, (_, i) => (i * 31 + 7) % 251))
    const form = new FormData()
    form.append("files", new Blob([bytes]), `replicas-${Date.now()}.bin`)
    const up = await fetch(`${forwards[0]!.url}/api/v1/documents/upload`, { method: "POST", body: form })
    const upBody: any = await up.json()
    expect(up.status, JSON.stringify(upBody)).toBeLessThan(300)
    expect(upBody.results[0].duplicate).toBe(false)
    const id: string = upBody.results[0].document.id
    const meta = await fetch(`${forwards[1]!.url}/api/v1/documents/${id}`)
    expect(meta.status).toBe(200)
    const down = await fetch(`${forwards[1]!.url}/api/v1/documents/${id}/file`)
    expect(down.status).toBe(200)
    expect(Buffer.from(await down.arrayBuffer()).equals(bytes)).toBe(true)
    expect((await fetch(`${forwards[1]!.url}/api/v1/documents/${id}`, { method: "DELETE" })).status).toBe(204)
  })

  it("a sync job started on one pod is read, to its end, from the other", async () => {
    const started = await fetch(`${forwards[0]!.url}/api/v1/sync/execute`, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ backend: "azure_blob" }),
    })
    const body: any = await started.json()
    expect(started.status, JSON.stringify(body)).toBe(202)
    let job: any
    for (let i = 0; i < 60; i++) {
      job = await (await fetch(`${forwards[1]!.url}/api/v1/sync/jobs/${body.job_id}`)).json()
      if (job.status !== "queued" && job.status !== "running") break
      await sleep(1_000)
    }
    expect(job.id).toBe(body.job_id)
    expect(job.kind).toBe("sync")
    expect(job.status, JSON.stringify(job)).toBe("succeeded")
  })
})

// deployAks's Kubernetes step is the script deployScript generates; the module runs it in a kubectl
// container, here it runs on the host against the live cluster, exactly as generated
describe("deployAks's deploy script on the live cluster: secret, apply, rollouts, rollback", () => {
  const deployments: DeploymentRef[] = [{ namespace: NS, name: "backend" }, { namespace: NS, name: "ui" }]
  const work = mkdtempSync(join(tmpdir(), "mydocs-deploy-"))
  const envFile = join(work, "deploy-test.env")
  afterAll(() => {
    rmSync(work, { recursive: true, force: true })
    kubectlTry(["-n", NS, "delete", "secret", "mydocs-deploy-test", "--ignore-not-found"])
    kubectl("apply", "-k", join(K8S, "overlays/k3d"))
    kubectl("-n", NS, "rollout", "status", "deployment/ui", "--timeout=180s")
  })
  beforeAll(() => {
    kubectlTry(["-n", NS, "delete", "secret", "mydocs-deploy-test", "--ignore-not-found"])
  })
  const revision = (name: string) => json("-n", NS, "get", "deployment", name).metadata.annotations["deployment.kubernetes.io/revision"]
  function runScript(text: string, env: Record<string, string> = {}): { status: number; out: string } {
    const file = join(work, "run.sh")
    writeFileSync(file, text)
    const r = spawnSync("bash", [file], { encoding: "utf8", env: { ...process.env, ...env }, maxBuffer: 16 << 20 })
    return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` }
  }
  /** deploy the k3d overlay from a scratch copy, after `edit` changed the copy */
  function deploy(edit: (c: K8sCopy) => void, rolloutTimeout = "120s") {
    const c = new K8sCopy()
    try {
      edit(c)
      return runScript(deployScript({
        namespace: NS, secretName: "mydocs-deploy-test", secretEnvFile: envFile,
        overlayDir: c.path("overlays/k3d"), deployments, rolloutTimeout,
      }))
    } finally {
      c.dispose()
    }
  }
  const setUiTag = (c: K8sCopy, tag: string) => {
    const k = c.path("overlays/k3d/kustomization.yaml")
    const text = readFileSync(k, "utf8")
    const changed = text.replace(/(- name: mydocs-ui\n\s+newTag: )latest/, `$1${tag}`)
    if (changed === text) throw new Error("the k3d overlay's images: entry for mydocs-ui was not found")
    writeFileSync(k, changed)
  }

  it("creates the Secret, restarts nothing while it is unchanged, restarts both when it changes", () => {
    writeFileSync(envFile, "MYDOCS_DEPLOY_TEST=1\n")
    const first = deploy(() => {})
    expect(first.status, first.out).toBe(0)
    expect(first.out).toContain("secret/mydocs-deploy-test created")
    expect(first.out).toMatch(/DEPLOY-PREVIOUS mydocs\/backend [0-9]+/)
    const revs = [revision("backend"), revision("ui")]
    const second = deploy(() => {})
    expect(second.status, second.out).toBe(0)
    expect(second.out).not.toContain("restarting so pods read it")
    expect([revision("backend"), revision("ui")]).toEqual(revs)
    expect(second.out.trim().split("\n").at(-1)).toBe("deployed")
    writeFileSync(envFile, "MYDOCS_DEPLOY_TEST=2\n")
    const third = deploy(() => {})
    expect(third.status, third.out).toBe(0)
    expect(third.out).toContain("restarting so pods read it")
    expect(Number(revision("backend"))).toBeGreaterThan(Number(revs[0]))
    // the namespace kept its Pod Security labels through every step
    expect(json("get", "namespace", NS).metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("restricted")
  }, 400_000)

  it("a bad image: the rollout fails within its timeout, the Deployment is rolled back, the old version serves", async () => {
    const before = revision("ui")
    const started = Date.now()
    const r = deploy((c) => setUiTag(c, "no-such-tag"), "45s")
    expect(r.status, r.out).toBe(DEPLOY_EXIT.rolledBack)
    expect(Date.now() - started).toBeLessThan(150_000)
    expect(r.out).toContain("DEPLOY-ROLLOUT-FAILED mydocs/ui")
    expect(r.out).toContain(`DEPLOY-ROLLED-BACK mydocs/ui@${before}`)
    expect(r.out).toMatch(/--- deploy failed \(exit 4\): pods and recent events/)
    const dep = json("-n", NS, "get", "deployment", "ui")
    expect(dep.spec.template.spec.containers.map((c: any) => c.image)).toEqual(["mydocs-ui:latest"])
    expect(dep.status.updatedReplicas).toBe(dep.spec.replicas)
    expect(dep.status.availableReplicas).toBe(dep.spec.replicas)
    expect(await status("/")).toBe(200)
  }, 400_000)

  it("after a completed rollout, the rollback script (a failed smoke test) returns every changed Deployment", async () => {
    // a second name for the same image, so that this rollout completes on a new revision
    execFileSync("docker", ["exec", process.env.MYDOCS_CLUSTER_NODE!, "ctr", "-n", "k8s.io", "images", "tag", "--force",
      "docker.io/library/mydocs-ui:latest", "docker.io/library/mydocs-ui:latest-again"])
    const good = deploy((c) => setUiTag(c, "latest-again"), "120s")
    expect(good.status, good.out).toBe(0)
    const previous = previousRevisions(good.out)
    expect(json("-n", NS, "get", "deployment", "ui").spec.template.spec.containers[0].image).toBe("mydocs-ui:latest-again")
    const back = runScript(rollbackScript({ deployments, previous, rolloutTimeout: "120s" }))
    expect(back.status, back.out).toBe(0)
    expect(back.out).toContain(`DEPLOY-ROLLED-BACK mydocs/ui@${previous["mydocs/ui"]}`)
    expect(back.out).not.toContain("mydocs/backend@")   // unchanged by the deploy: left alone
    expect(json("-n", NS, "get", "deployment", "ui").spec.template.spec.containers[0].image).toBe("mydocs-ui:latest")
    expect(await status("/")).toBe(200)
  }, 400_000)
})

beforeAll(() => {
  kubectl("get", "--raw", "/readyz")
})

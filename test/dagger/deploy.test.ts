// deployAks on the engine: the dry-run report, and a real run against the test registry standing in for
// ACR (both images pushed under every tag with one digest, the overlay stamped with those digests), whose
// Kubernetes step — there is no cluster here — fails with one clear message before applying anything.
import { dag } from "@dagger.io/dagger"
import { describe, expect, it } from "vitest"

import { DeployEvent } from "../../.dagger/src/index.js"
import { moduleSource, mydocs, useEngine } from "./lib/engine.js"

useEngine()

const SECRET_VALUE = `s3cr3t-${process.pid}-${Date.now()}`

/** The registry the engine reaches (for pushes) and this machine reaches (to read what was pushed). */
function registry(): { engine: string; host: string } {
  const engine = process.env.MYDOCS_DAGGER_REGISTRY
  if (!engine) throw new Error("MYDOCS_DAGGER_REGISTRY is not set: eval the output of scripts/dagger-engine.sh up")
  return { engine, host: `127.0.0.1:${engine.split(":").pop()}` }
}

async function manifestDigest(host: string, repo: string, tag: string): Promise<string> {
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, {
    method: "HEAD",
    headers: {
      Accept: [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
      ].join(", "),
    },
  })
  expect(res.status, `${repo}:${tag} in the registry`).toBe(200)
  return res.headers.get("docker-content-digest") ?? ""
}

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
- name: mydocs-aks
  cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}
users:
- name: ci
  user: {token: not-a-real-token}
contexts:
- name: mydocs-aks
  context: {cluster: mydocs-aks, user: ci, namespace: mydocs}
current-context: mydocs-aks
`

describe("deployAks", () => {
  it("--dry-run: reports the images, the tag and the Secret's key names (never a value)", async () => {
    const env = dag.setSecret("deploy-dry-env", `MONGO_URL=mongodb://db.example:27017/\nMONGO_PASSWORD=${SECRET_VALUE}\nAZURE_OPENAI_API_KEY=\n`)
    const report = await (await mydocs()).deployAks(
      "mydocsacr", "mydocs-aks", "mydocs-rg", "0123abc", DeployEvent.PULL_REQUEST, env,
      undefined, undefined, undefined, "", "", "300s", true,
    )
    expect(report).toContain("dry run: nothing pushed")
    expect(report).toContain("mydocs-backend: mydocsacr.azurecr.io/mydocs-backend:0123abc")
    expect(report).toContain("mydocs-ui: mydocsacr.azurecr.io/mydocs-ui:0123abc")
    expect(report).toMatch(/secret mydocs-secrets, keys from the env file: MONGO_URL, MONGO_PASSWORD\n/)
    expect(report).toContain("empty in the env file, left out: AZURE_OPENAI_API_KEY")
    expect(report).toContain("image: mydocsacr.azurecr.io/mydocs-backend:0123abc")
    expect(report).not.toContain(SECRET_VALUE)
  })

  it("refuses to publish for a pull request, and names a bad argument", async () => {
    const m = (await mydocs())
    const token = dag.setSecret("t", "x")
    await expect(m.deployAks("mydocsacr", "mydocs-aks", "mydocs-rg", "0123abc", DeployEvent.PULL_REQUEST, undefined, token, token))
      .rejects.toThrow(/pull request/)
    await expect(m.deployAks("my-acr!", "mydocs-aks", "mydocs-rg", "0123abc")).rejects.toThrow(/acrName|ACR/i)
    await expect(m.deployAks("mydocsacr", "mydocs-aks", "mydocs-rg", "latest", DeployEvent.PUSH, undefined, undefined, undefined, undefined, "", "", "300s", true))
      .rejects.toThrow(/latest/)
  })

  it("pushes both images under every tag with one digest, stamps them, and stops cleanly with no cluster", async () => {
    const reg = registry()
    const tag = `t${Date.now().toString(36)}`
    const m = (await mydocs())
    let message = ""
    try {
      await m.deployAks(
        "mydocsacr", "mydocs-aks", "mydocs-rg", tag, DeployEvent.PUSH, undefined,
        dag.setSecret("acr-token", "test-registry-takes-any-token\n"), dag.setSecret("kubeconfig", KUBECONFIG), undefined,
        "", "", "60s", false, reg.engine, false,
      )
    } catch (e) {
      message = e instanceof Error ? e.message : String(e)
    }
    expect(message, "the deploy must fail: there is no cluster").not.toBe("")
    expect(message).toMatch(/deployAks: the Kubernetes step failed \(exit 3\): cannot reach the Kubernetes API at https:\/\/127\.0\.0\.1:1: nothing was applied/)
    for (const name of ["mydocs-backend", "mydocs-ui"]) {
      const digest = await manifestDigest(reg.host, name, tag)
      expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/)
      expect(await manifestDigest(reg.host, name, "latest"), `${name}: :latest is the same image`).toBe(digest)
      expect(message).toContain(`${name}: ${reg.engine}/${name}:${tag}, ${reg.engine}/${name}:latest @ ${digest}`)
      expect(message).toContain(`${reg.engine}/${name}@${digest}`) // the stamped overlay deploys exactly that
    }
    expect(message).not.toMatch(/namespace\/mydocs (created|configured)|deployment\.apps/) // nothing applied
  })

  it("tests the very images it would publish first: a failed testOnK3d publishes nothing", async () => {
    const reg = registry()
    const tag = `k${Date.now().toString(36)}`
    const run = (await mydocs()).deployAks(
      "mydocsacr", "mydocs-aks", "mydocs-rg", tag, DeployEvent.LOCAL, undefined,
      dag.setSecret("acr-token-2", "x"), dag.setSecret("kubeconfig-2", KUBECONFIG), undefined,
      "", "", "60s", false, reg.engine, true,
    )
    await expect(run).rejects.toThrow(/deployAks: testOnK3d failed, nothing was published[\s\S]*create-cluster/)
    for (const name of ["mydocs-backend", "mydocs-ui"]) {
      const res = await fetch(`http://${reg.host}/v2/${name}/manifests/${tag}`, { method: "HEAD" })
      expect(res.status, `${name}:${tag} must not exist`).toBe(404)
    }
  })
})

import { execFileSync } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { resolve } from "node:path"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { currentCluster, DEPLOYER_USER, kubeconfigWithTokenFile } from "../../../.dagger/src/kubeconfig.js"

// The shape `az aks get-credentials --file -` writes for an Entra-integrated cluster.
const AKS = `apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTg==
    server: https://mydocs-aks-dns-12345678.hcp.westeurope.azmk8s.io:443
  name: mydocs-aks
- cluster:
    server: https://other.example:443
  name: other
contexts:
- context:
    cluster: mydocs-aks
    user: clusterUser_mydocs-rg_mydocs-aks
  name: mydocs-aks
- context:
    cluster: other
    user: x
  name: other
current-context: mydocs-aks
preferences: {}
users:
- name: clusterUser_mydocs-rg_mydocs-aks
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubelogin
      args: [get-token, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630]
`

describe("kubeconfigWithTokenFile", () => {
  it("keeps the current cluster and replaces the user by a tokenFile user", () => {
    const out = parse(kubeconfigWithTokenFile(AKS, "/run/secrets/aks-token", "mydocs-aks"))
    expect(out.clusters).toHaveLength(1)
    expect(out.clusters[0].name).toBe("mydocs-aks")
    expect(out.clusters[0].cluster["certificate-authority-data"]).toBe("LS0tLS1CRUdJTg==")
    expect(out.users).toEqual([{ name: DEPLOYER_USER, user: { tokenFile: "/run/secrets/aks-token" } }])
    expect(out.contexts).toEqual([{ name: "mydocs-aks", context: { cluster: "mydocs-aks", user: DEPLOYER_USER } }])
    expect(out["current-context"]).toBe("mydocs-aks")
  })
  it("is understood by real kubectl as a token-file user", () => {
    const dir = mkdtempSync(resolve(tmpdir(), "mydocs-kc-"))
    const file = resolve(dir, "config")
    writeFileSync(file, kubeconfigWithTokenFile(AKS, "/run/secrets/aks-token"), { mode: 0o600 })
    const view = (jsonpath: string) =>
      execFileSync("kubectl", ["config", "view", "--kubeconfig", file, "-o", `jsonpath=${jsonpath}`], { encoding: "utf8" })
    expect(view("{.users[0].user.tokenFile}")).toBe("/run/secrets/aks-token")
    expect(view("{.clusters[0].cluster.server}")).toBe("https://mydocs-aks-dns-12345678.hcp.westeurope.azmk8s.io:443")
    expect(execFileSync("kubectl", ["config", "current-context", "--kubeconfig", file], { encoding: "utf8" }).trim()).toBe("mydocs-aks")
  })
  it("refuses a kubeconfig of another cluster, or without a usable context", () => {
    expect(() => kubeconfigWithTokenFile(AKS, "/t", "prod-aks")).toThrow(/cluster is "mydocs-aks", expected "prod-aks"/)
    expect(() => kubeconfigWithTokenFile(AKS.replace("current-context: mydocs-aks", "current-context: nope"), "/t")).toThrow(/context "nope" not found/)
    expect(() => kubeconfigWithTokenFile(AKS.replace("current-context: mydocs-aks\n", ""), "/t")).toThrow(/not exactly one context/)
    expect(() => kubeconfigWithTokenFile(AKS.replace("https://mydocs-aks-dns", "http://mydocs-aks-dns"), "/t")).toThrow(/https server/)
    expect(() => kubeconfigWithTokenFile(AKS, "relative")).toThrow(/absolute/)
    expect(() => kubeconfigWithTokenFile("a: [", "/t")).toThrow(/^kubeconfig: not valid YAML$/)
    expect(() => kubeconfigWithTokenFile("- 1", "/t")).toThrow(/not a mapping/)
    expect(() => kubeconfigWithTokenFile("kind: Pod\n", "/t")).toThrow(/not Config/)
  })
})

describe("currentCluster", () => {
  it("names the cluster the current context points at", () => {
    expect(currentCluster(AKS).clusterName).toBe("mydocs-aks")
    expect(currentCluster(AKS.replace("current-context: mydocs-aks", "current-context: other")).clusterName).toBe("other")
  })
})

import { execFileSync, spawnSync } from "node:child_process"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { resolve } from "node:path"
import { describe, expect, it } from "vitest"
import { K3D_STEPS } from "../../../.dagger/src/report.js"
import {
  clusterTestScript,
  deployScript,
  previousRevisions,
  rollbackScript,
  ferretdbBuildScript,
  k3dBaseUrl,
  k3dTestScript,
  shellQuote,
  type K3dScriptParams,
} from "../../../.dagger/src/scripts.js"
import { FERRETDB_VERSION } from "../../../.dagger/src/versions.js"

const K3D: K3dScriptParams = {
  cluster: "mydocs-e2e",
  k3sImage: "rancher/k3s:v1.32.3-k3s1",
  hostPort: 8081,
  ingressHost: null,
  rolloutTimeout: "300s",
  deployments: [
    { namespace: "mydocs", name: "backend" },
    { namespace: "mydocs", name: "ui" },
  ],
  images: [{ tarball: "/images/backend.tar", ref: "mydocs-backend:k3d-test" }],
  ingressManifest: "/manifests/ingress-nginx.yaml",
  overlayDir: "/src/deploy/k8s/overlays/k3d",
  e2eDir: "/src/test/e2e",
  browser: true,
  reportDir: "/report",
}

function syntaxOk(shell: string, script: string): void {
  const dir = mkdtempSync(resolve(tmpdir(), "mydocs-sh-"))
  const file = resolve(dir, "s.sh")
  writeFileSync(file, script)
  const r = spawnSync(shell, ["-n", file], { encoding: "utf8" })
  expect(r.stderr).toBe("")
  expect(r.status).toBe(0)
}

describe("shellQuote", () => {
  it("round-trips hostile strings through a real shell", () => {
    for (const s of ["plain", "it's", "$(id)", "`id`", "a b\tc\nd", "'; rm -rf / #", "\\", ""]) {
      expect(execFileSync("sh", ["-c", `printf %s ${shellQuote(s)}`], { encoding: "utf8" })).toBe(s)
    }
  })
})

describe("k3dTestScript", () => {
  it("is valid bash that runs every step in order and always deletes the cluster", () => {
    const s = k3dTestScript(K3D)
    syntaxOk("bash", s)
    let at = 0
    for (const step of K3D_STEPS.filter((x) => x !== "delete-cluster")) {
      const i = s.indexOf(`run_step ${step} `)
      expect(i, step).toBeGreaterThan(at)
      at = i
    }
    expect(s).toContain("trap finish EXIT")
    expect(s).toMatch(/cleanup\(\) \{[\s\S]*k3d cluster delete "\$CLUSTER"[\s\S]*leftover-containers/)
    expect(s).toMatch(/finish\(\) \{[\s\S]*cleanup[\s\S]*record delete-cluster ok/)
    expect(s).not.toMatch(/>>\s*\/etc\/hosts/) // read-only inside the engine
    expect(s).toContain(`--disable=traefik@server:0`)
    expect(s).toContain(`-p "$HOST_PORT:80@loadbalancer"`)
    expect(s).toContain(`rollout status "deployment/\${d#*/}" --timeout="$TIMEOUT"`)
    expect(s).toContain("kubectl get events -A")
    expect(s).toContain("logs \"deployment/${d#*/}\" --all-containers")
    expect(s).toContain("IMAGES=('/images/backend.tar=mydocs-backend:k3d-test')")
    expect(s).toContain("BASE_URL='http://127.0.0.1:8081'")
    expect(s).toContain("CHROMIUM_PATH=")
  })
  it("runs the e2e suite without a browser on request and resolves an ingress host", () => {
    const s = k3dTestScript({ ...K3D, browser: false, ingressHost: "mydocs.localhost" })
    syntaxOk("bash", s)
    expect(s).toContain("BROWSER=0")
    expect(s).toContain("E2E_SKIP_BROWSER=1")
    expect(s).toContain("BASE_URL='http://mydocs.localhost:8081'")
    expect(k3dBaseUrl({ ingressHost: "mydocs.localhost", hostPort: 8081 })).toBe("http://mydocs.localhost:8081")
  })
  it("quotes every value, so a hostile path cannot inject commands", () => {
    const s = k3dTestScript({ ...K3D, overlayDir: "/src/$(touch /tmp/pwned)'x" })
    syntaxOk("bash", s)
    expect(s).toContain(`OVERLAY='/src/$(touch /tmp/pwned)'\\''x'`)
  })
  it("refuses bad parameters", () => {
    expect(() => k3dTestScript({ ...K3D, cluster: "Bad_Name" })).toThrow(/cluster/)
    expect(() => k3dTestScript({ ...K3D, hostPort: 80 })).toThrow(/hostPort/)
    expect(() => k3dTestScript({ ...K3D, ingressHost: "a b" })).toThrow(/ingress host/)
    expect(() => k3dTestScript({ ...K3D, deployments: [] })).toThrow(/no Deployment/)
    expect(() => k3dTestScript({ ...K3D, deployments: [{ namespace: "mydocs", name: "Bad" }] })).toThrow(/Kubernetes name/)
    expect(() => k3dTestScript({ ...K3D, images: [] })).toThrow(/no image/)
  })
})

describe("deployScript", () => {
  const base = {
    namespace: "mydocs",
    secretName: "mydocs-secrets",
    secretEnvFile: "/run/secrets/mydocs.env",
    overlayDir: "/src/deploy/k8s/overlays/azure",
    deployments: [
      { namespace: "mydocs", name: "backend" },
      { namespace: "mydocs", name: "ui" },
    ],
    rolloutTimeout: "300s",
  }
  it("creates the Secret idempotently from the mounted env file, applies, restarts on a secret change, awaits rollouts", () => {
    const s = deployScript(base)
    expect(s.split("\n")[0]).toBe("#!/usr/bin/env bash") // pipefail: dash, the sh of the Debian tool base, has none
    syntaxOk("bash", s)
    expect(s).toContain(
      `kubectl -n "$NS" create secret generic 'mydocs-secrets' --from-env-file='/run/secrets/mydocs.env' \\\n  --dry-run=client -o yaml | kubectl apply -f -`,
    )
    // a restart only when the Secret existed and the API server changed it
    expect(s).toContain(`if [ -n "$BEFORE" ] && [ "$(secret_version)" != "$BEFORE" ]; then RESTART=1; fi`)
    // never re-apply a bare Namespace over the overlay's Pod Security labels
    expect(s).toContain(`kubectl get namespace "$NS" > /dev/null 2>&1 || kubectl create namespace "$NS"`)
    expect(s).not.toContain("create namespace \"$NS\" --dry-run")
    expect(s).not.toContain("--from-literal")
    const order = ["kubectl version --request-timeout", "get namespace", "--dry-run=server", "create secret generic", "apply -k '/src/deploy/k8s/overlays/azure'\n", "rollout restart deployment/'backend'",
      "rollout status deployment/'backend' --timeout='300s'", "rollout status deployment/'ui' --timeout='300s'"]
    // in this order in the main flow (after the function definitions)
    let at = s.indexOf("kubectl version --client")
    for (const o of order) {
      const i = s.indexOf(o, at + 1)
      expect(i, o).toBeGreaterThan(at)
      at = i
    }
    expect(s).toContain("set -o pipefail")
    expect(s).toContain("trap on_exit EXIT")
  })
  it("records each Deployment's revision before applying, and rolls back to it when a rollout fails (exit 4)", () => {
    const s = deployScript(base)
    syntaxOk("bash", s)
    const main = s.slice(s.indexOf("kubectl version --client"))
    expect(main.indexOf(`PREV_0=$(revision_of 'mydocs' 'backend')`)).toBeLessThan(main.indexOf("apply -k '/src/deploy/k8s/overlays/azure'\n"))
    expect(main).toContain(`echo "DEPLOY-PREVIOUS mydocs/ui \${PREV_1:-none}"`)
    expect(main).toContain(`|| FAILED="$FAILED mydocs/backend"`)
    expect(main.slice(main.indexOf('if [ -n "$FAILED" ]'))).toMatch(/DEPLOY-ROLLOUT-FAILED[^\n]*\n  rollback\n  exit 4\n/)
    // only a Deployment whose revision moved goes back, to exactly the recorded revision
    expect(s).toContain(`if [ -n "$PREV_0" ] && [ "$(revision_of 'mydocs' 'backend')" != "$PREV_0" ]; then
    kubectl -n 'mydocs' rollout undo deployment/'backend' --to-revision="$PREV_0"`)
    expect(s).toContain(`|| { echo "DEPLOY-ROLLBACK-FAILED mydocs/ui"; exit 5; }`)
  })
  it("rollbackScript returns to the recorded revisions; previousRevisions reads them back", () => {
    const out = "x\nDEPLOY-PREVIOUS mydocs/backend 7\nDEPLOY-PREVIOUS mydocs/ui none\ndeployed\n"
    const prev = previousRevisions(out)
    expect(prev).toEqual({ "mydocs/backend": "7", "mydocs/ui": "none" })
    const s = rollbackScript({ deployments: base.deployments, previous: prev, rolloutTimeout: "60s" })
    syntaxOk("bash", s)
    expect(s).toContain("PREV_0=7\nPREV_1=\"\"\nrollback\n")
    expect(() => rollbackScript({ deployments: base.deployments, previous: { "mydocs/backend": "7; rm -rf /" }, rolloutTimeout: "60s" }))
      .toThrow(/bad revision/)
    expect(() => rollbackScript({ deployments: [], previous: {}, rolloutTimeout: "60s" })).toThrow(/no Deployment/)
  })
  it("leaves the Secret alone without an env file", () => {
    const s = deployScript({ ...base, secretEnvFile: null })
    syntaxOk("bash", s)
    expect(s).not.toContain("create secret")
    expect(s).toContain("left as it is")
  })
  it("refuses bad names", () => {
    expect(() => deployScript({ ...base, namespace: "My NS" })).toThrow(/namespace/)
    expect(() => deployScript({ ...base, secretName: "x_y" })).toThrow(/secret name/)
    expect(() => deployScript({ ...base, deployments: [] })).toThrow(/no Deployment/)
  })
})

describe("ferretdbBuildScript", () => {
  it("finds the downloaded module directory with real `go mod download -json` output", () => {
    const s = ferretdbBuildScript(FERRETDB_VERSION, "/tmp/x", "/tmp/y")
    syntaxOk("sh", s)
    // the first two lines locate the module in the Go module cache (the download is what
    // scripts/install-test-services.sh does too); the build itself runs in the engine
    const locate = s.split("\n").slice(0, 3).join("\n") + "\necho \"$dir\"\n"
    const dir = execFileSync("sh", ["-c", locate], { encoding: "utf8", timeout: 300_000 }).trim()
    expect(dir).toMatch(/ferret!d!b@v1\.24\.2$/)
  })
  it("refuses a version that is not vX.Y.Z", () => {
    expect(() => ferretdbBuildScript("latest", "/b", "/o")).toThrow(/version/)
  })
})

describe("clusterTestScript (testOnCluster)", () => {
  const base = {
    baseUrl: "http://172.17.0.2:8000/",
    rolloutTimeout: "180s",
    deployments: [{ namespace: "mydocs", name: "backend" }, { namespace: "mydocs", name: "ui" }],
    overlayDir: "/src/deploy/k8s/overlays/k3d",
    e2eDir: "/work/test/e2e",
    reportDir: "/work/report",
  }
  it("checks the cluster, applies, awaits the rollouts and runs the e2e suite; never creates or deletes a cluster", () => {
    const s = clusterTestScript(base)
    syntaxOk("bash", s)
    const order = ["run_step check-cluster check_cluster", "run_step apply-overlay apply_overlay", "run_step rollout rollout", "run_step e2e run_e2e"]
    let at = -1
    for (const o of order) {
      const i = s.indexOf(o)
      expect(i, o).toBeGreaterThan(at)
      at = i
    }
    expect(s).toContain("BASE_URL='http://172.17.0.2:8000'")
    expect(s).toContain("DEPLOYMENTS=('mydocs/backend' 'mydocs/ui')")
    expect(s).toContain("E2E_SKIP_BROWSER=1")
    expect(s).not.toMatch(/k3d cluster (create|delete)|kubectl delete/)
    // the same step functions as testOnK3d
    const k3d = k3dTestScript({
      cluster: "c", k3sImage: "k", hostPort: 8081, ingressHost: null, rolloutTimeout: "1s", deployments: base.deployments,
      images: [{ tarball: "/i.tar", ref: "i:t" }], ingressManifest: "/m", ingressManifestError: null, overlayDir: "/o",
      e2eDir: "/e", browser: false, reportDir: "/r",
    })
    for (const fn of ["apply_overlay() {", "rollout() {", "run_e2e() {", "kube_diagnostics() {"]) {
      expect(s.slice(s.indexOf(fn), s.indexOf("\n}\n", s.indexOf(fn)))).toBe(k3d.slice(k3d.indexOf(fn), k3d.indexOf("\n}\n", k3d.indexOf(fn))))
    }
  })
  it("refuses a non-http base URL and no Deployment", () => {
    expect(() => clusterTestScript({ ...base, baseUrl: "file:///etc/passwd" })).toThrow(/http/)
    expect(() => clusterTestScript({ ...base, deployments: [] })).toThrow(/no Deployment/)
  })
})

// The GitHub workflows: actionlint (with shellcheck on every run: script) and the policies of
// spec §8.2 / issue 6 that a linter does not know: pinned actions, least privilege, no secret in a
// command line, the triggers and the Dagger calls.
import { execFileSync, spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { delimiter, resolve } from "node:path"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"

const ROOT = resolve(__dirname, "../../..")
const WORKFLOWS = [".github/workflows/ci.yml", ".github/workflows/deploy-aks.yml"].map((p) => resolve(ROOT, p))

function findTool(name: string, envVar: string): string | null {
  const candidates = [process.env[envVar], resolve(process.env.MYDOCS_TOOLS ?? "/opt/mydocs-tools", "bin", name),
    ...(process.env.PATH ?? "").split(delimiter).map((d) => resolve(d, name))]
  return candidates.find((c): c is string => !!c && existsSync(c)) ?? null
}

const ACTIONLINT = findTool("actionlint", "ACTIONLINT")
const SHELLCHECK = findTool("shellcheck", "SHELLCHECK")

type Step = { uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string>; name?: string }
type Job = { if?: string; needs?: string | string[]; permissions?: Record<string, string>; steps: Step[]; container?: unknown }
type Workflow = { on: Record<string, unknown>; permissions?: unknown; concurrency?: { group: string }; env?: Record<string, string>; jobs: Record<string, Job> }
const load = (p: string) => parse(readFileSync(p, "utf8")) as Workflow
const ci = load(WORKFLOWS[0]!)
const deploy = load(WORKFLOWS[1]!)
const allSteps = [ci, deploy].flatMap((w) => Object.values(w.jobs).flatMap((j) => j.steps))

describe("actionlint", () => {
  it("is installed (scripts/install-lint-tools.sh), with shellcheck for run: scripts", () => {
    expect(ACTIONLINT, "actionlint missing: run scripts/install-lint-tools.sh").not.toBeNull()
    expect(SHELLCHECK, "shellcheck missing: run scripts/install-lint-tools.sh").not.toBeNull()
  })
  it("passes on both workflows", () => {
    const r = spawnSync(ACTIONLINT!, ["-no-color", "-shellcheck", SHELLCHECK!, ...WORKFLOWS], { encoding: "utf8" })
    expect(r.stdout + r.stderr).toBe("")
    expect(r.status).toBe(0)
  })
  it("fails on a broken workflow (the check can fail)", () => {
    const dir = mkdtempSync(resolve(tmpdir(), "mydocs-al-"))
    const bad = resolve(dir, "bad.yml")
    writeFileSync(bad, "on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo \"${{ github.event.pull_request.title }}\"\n      - uses: actions/checkout@v4\n        with: {nope: 1}\n")
    const r = spawnSync(ACTIONLINT!, ["-no-color", "-shellcheck", SHELLCHECK!, bad], { encoding: "utf8" })
    expect(r.status).not.toBe(0)
    expect(r.stdout).toMatch(/untrusted|nope/)
  })
})

describe("both workflows", () => {
  it("pin every action by a full commit SHA", () => {
    const uses = allSteps.map((s) => s.uses).filter((u): u is string => !!u)
    expect(uses.length).toBeGreaterThan(0)
    for (const u of uses) expect(u, u).toMatch(/^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40}$/)
  })
  it("never interpolate a secret into a command line (run: scripts or dagger arguments)", () => {
    for (const s of allSteps) {
      expect(s.run ?? "", s.name).not.toMatch(/\$\{\{[^}]*secrets\./)
      for (const v of Object.values(s.with ?? {})) {
        if (s.uses?.startsWith("dagger/")) expect(String(v), s.name).not.toMatch(/\$\{\{[^}]*(secrets|inputs|github\.event)\./)
      }
    }
  })
  it("call Dagger through dagger/dagger-for-github with CLI 0.21.8 (the engine dagger.json pins)", () => {
    const dagger = allSteps.filter((s) => s.uses?.startsWith("dagger/dagger-for-github@"))
    expect(dagger.length).toBe(3)
    const pinned = JSON.parse(readFileSync(resolve(ROOT, "dagger.json"), "utf8")).engineVersion
    expect(pinned).toBe("v0.21.8")
    for (const s of dagger) {
      const v = String(s.with?.version)
      expect(v === "0.21.8" || (v === "${{ env.DAGGER_VERSION }}" && deploy.env?.DAGGER_VERSION === "0.21.8")).toBe(true)
    }
  })
  it("check out without persisting the token", () => {
    for (const s of allSteps.filter((x) => x.uses?.startsWith("actions/checkout@"))) {
      expect(s.with?.["persist-credentials"]).toBe(false)
    }
  })
})

describe("deploy-aks.yml (spec 8.2)", () => {
  it("triggers on push and pull requests to azure-deployment and on dispatch with an optional tag", () => {
    expect(deploy.on.push).toEqual({ branches: ["azure-deployment"] })
    expect(deploy.on.pull_request).toEqual({ branches: ["azure-deployment"] })
    const tag = (deploy.on.workflow_dispatch as { inputs: { tag: { required: boolean } } }).inputs.tag
    expect(tag.required).toBe(false)
  })
  it("has least-privilege permissions: none by default, id-token only on the job that logs in", () => {
    expect(deploy.permissions).toEqual({})
    for (const [name, job] of Object.entries(deploy.jobs)) {
      const logsIn = job.steps.some((s) => s.uses?.startsWith("azure/login@"))
      expect(job.permissions?.["id-token"], name).toBe(logsIn ? "write" : undefined)
      expect(job.permissions?.contents, name).toBe("read")
      expect(Object.keys(job.permissions ?? {}).sort(), name).toEqual(logsIn ? ["contents", "id-token"] : ["contents"])
    }
    expect(ci.permissions).toEqual({ contents: "read" })
  })
  it("never overlaps two deploys", () => {
    expect(deploy.concurrency?.group).toContain("azure-deployment")
    expect((deploy.concurrency as { "cancel-in-progress": string })["cancel-in-progress"]).toBe("${{ github.event_name == 'pull_request' }}")
  })
  it("only builds on a pull request; otherwise one call builds once, tests those images on k3d, then publishes and deploys them", () => {
    expect(deploy.jobs.build!.if).toBe("github.event_name == 'pull_request'")
    expect(String(deploy.jobs.build!.steps.find((s) => s.uses?.startsWith("dagger/"))!.with!.args)).toMatch(/^deploy-aks --dry-run --event PULL_REQUEST /)
    expect(deploy.jobs.deploy!.if).toBe("github.event_name != 'pull_request'")
    // no second build on another runner: the tested images are the deployed images (deployAks k3dTest defaults to true)
    expect(Object.keys(deploy.jobs).sort()).toEqual(["build", "deploy"])
    const step = deploy.jobs.deploy!.steps.find((s) => s.uses?.startsWith("dagger/"))!
    const args = String(step.with!.args)
    expect(args).not.toContain("--dry-run")
    expect(args).not.toContain("--k3d-test=false")
    expect(args).toContain('--event "$EVENT"')
    expect(step.env?.EVENT).toBe("${{ github.event_name == 'push' && 'PUSH' || 'WORKFLOW_DISPATCH' }}")
    for (const a of ["--app-env \"file://", "--acr-token \"cmd://az acr login", "--kubeconfig \"cmd://az aks get-credentials", "--aks-token \"cmd://az account get-access-token", "--tag \"$IMAGE_TAG\""]) {
      expect(args).toContain(a)
    }
  })
  it("uses OIDC: azure/login with client, tenant and subscription IDs and no client secret", () => {
    const login = deploy.jobs.deploy!.steps.find((s) => s.uses?.startsWith("azure/login@"))!
    expect(Object.keys(login.with ?? {}).sort()).toEqual(["client-id", "subscription-id", "tenant-id"])
  })
  it("writes exactly the backend's secret keys it knows from GitHub Secrets, including every one spec 8.2 lists", () => {
    const step = deploy.jobs.deploy!.steps.find((s) => s.run?.includes("mydocs.env"))!
    const names = Object.keys(step.env ?? {})
    const loop = /for name in ([\s\S]*?); do/.exec(step.run!)![1]!.replace(/\\\n/g, " ").split(/\s+/).filter(Boolean)
    expect(loop.sort()).toEqual([...names].sort())
    for (const [k, v] of Object.entries(step.env ?? {})) expect(v).toBe(`\${{ secrets.${k} }}`)
    const mydocs = resolve(ROOT, ".venv/bin/mydocs")
    expect(existsSync(mydocs), "run scripts/setup-python.sh: the backend's CLI is the source of the key list").toBe(true)
    const keys = JSON.parse(execFileSync(mydocs, ["config", "keys", "--json"], { encoding: "utf8" })).variables as Array<{ name: string; secret: boolean }>
    const secret = keys.filter((k) => k.secret).map((k) => k.name)
    for (const n of names) expect(secret, n).toContain(n)
    for (const n of ["MONGO_URL", "MONGO_USER", "MONGO_PASSWORD", "MONGO_DB_NAME", "AZURE_DI_ENDPOINT", "AZURE_DI_API_KEY",
      "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_API_BASE", "MYDOCS_STORAGE_BACKEND", "AZURE_STORAGE_ACCOUNT_NAME",
      "AZURE_STORAGE_CONTAINER_NAME", "ENTRA_CLIENT_ID"]) {
      expect(names).toContain(n)
    }
  })
  it("removes the env file whatever happened", () => {
    const last = deploy.jobs.deploy!.steps.at(-1)!
    expect((last as { if?: string }).if).toBe("always()")
    expect(last.run).toContain('rm -f "$RUNNER_TEMP/mydocs.env"')
  })
})

describe("ci.yml", () => {
  it("runs on pull requests and pushes to main", () => {
    expect(ci.on.pull_request).toBeNull()
    expect(ci.on.push).toEqual({ branches: ["main"] })
  })
  it("runs the README's test command on Debian 12 and test-on-k3d through Dagger", () => {
    expect(ci.jobs.test!.steps.some((s) => s.run === "bash .ci/run")).toBe(true)
    expect(JSON.stringify(ci.jobs.test!.container)).toContain("debian:12")
    // the report is exported whatever the result (a failed run returns it), kept, and only then judged
    const steps = ci.jobs.k3d!.steps
    const call = steps.findIndex((s) => s.uses?.startsWith("dagger/") && s.with?.args === "test-on-k3d artifacts export --path k3d-report")
    const upload = steps.findIndex((s) => s.uses?.startsWith("actions/upload-artifact@") && (s as { if?: string }).if === "always()")
    const judge = steps.findIndex((s) => s.run?.includes("grep -qx passed k3d-report/status"))
    expect(call).toBeGreaterThan(-1)
    expect(upload).toBeGreaterThan(call)
    expect(judge).toBeGreaterThan(upload)
  })
})

/**
 * Rendering the kustomize tree with the real `kubectl kustomize`, in a temporary copy of deploy/k8s
 * when a test needs extra files (a self-hosted secret.yml, an overlay combining a component, a stamped
 * kustomization), and calling the real tools the policies rely on (the backend CLI, the validator).
 */
import { execFileSync, spawnSync } from "node:child_process"
import { cpSync, mkdtempSync, rmSync, writeFileSync, mkdirSync, existsSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { parseAllDocuments } from "yaml"

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..")
export const K8S = join(REPO, "deploy/k8s")

/** One rendered Kubernetes object. */
export type K8sObject = {
  apiVersion: string
  kind: string
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }
  [k: string]: any
}

export class RenderError extends Error {}

/** `kubectl kustomize DIR` as YAML text; throws RenderError carrying kustomize's own message. */
export function kustomize(dir: string): string {
  const r = spawnSync("kubectl", ["kustomize", dir], { encoding: "utf8", maxBuffer: 32 << 20 })
  if (r.error) throw new RenderError(`kubectl not runnable: ${r.error.message}`)
  if (r.status !== 0) throw new RenderError(`kubectl kustomize ${dir} failed: ${r.stderr.trim()}`)
  return r.stdout
}

export function parseObjects(text: string): K8sObject[] {
  const out: K8sObject[] = []
  for (const d of parseAllDocuments(text)) {
    if ("errors" in d && d.errors.length > 0) throw new Error(`YAML does not parse: ${d.errors[0]!.message}`)
    const js = d.toJS()
    if (js === null || js === undefined) continue
    out.push(js as K8sObject)
  }
  return out
}

/** A scratch copy of deploy/k8s; `dispose()` removes it. */
export class K8sCopy {
  readonly root: string
  constructor() {
    this.root = mkdtempSync(join(tmpdir(), "mydocs-k8s-"))
    cpSync(K8S, this.root, { recursive: true })
    // never render a developer's real secret.yml in tests
    rmSync(join(this.root, "overlays/self-hosted/secret.yml"), { force: true })
  }
  path(rel: string): string {
    return join(this.root, rel)
  }
  write(rel: string, text: string): void {
    mkdirSync(dirname(this.path(rel)), { recursive: true })
    writeFileSync(this.path(rel), text)
  }
  render(rel: string): K8sObject[] {
    return parseObjects(kustomize(this.path(rel)))
  }
  dispose(): void {
    rmSync(this.root, { recursive: true, force: true })
  }
}

/** Render one overlay (e.g. "overlays/k3d") from a scratch copy of deploy/k8s. */
export function renderCopy(rel: string): K8sObject[] {
  const c = new K8sCopy()
  try {
    return c.render(rel)
  } finally {
    c.dispose()
  }
}

/** A filled-in self-hosted secret.yml made from the committed template (test values, no credential). */
export function testSelfHostedSecret(exampleText: string): string {
  const objs = parseObjects(exampleText)
  if (objs.length !== 1) throw new Error("secret.yml.example must hold exactly one object")
  const s = objs[0]!
  const data = { ...(s.stringData as Record<string, string>) }
  data.MONGO_URL = "mongodb://mongo.example.internal:27017/"
  data.MONGO_DB_NAME = "mydocs"
  return JSON.stringify({ ...s, stringData: data }, null, 2)
}

/** The overlay azure with the opt-in component, as an operator would enable it. */
export const AZURE_BLOB_OVERLAY = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../azure
components:
  - ../../components/azure-blob-workload-identity
`

// ---------- the backend's own knowledge (docs/contracts.md §2) ----------

export const MYDOCS_CLI = process.env.MYDOCS_CLI ?? join(REPO, ".venv/bin/mydocs")

export interface ConfigVariable {
  name: string
  required: boolean
  secret: boolean
  default: unknown
  description: string
}

/** `mydocs config keys --json`: every variable the backend reads. */
export function backendVariables(): ConfigVariable[] {
  if (!existsSync(MYDOCS_CLI)) {
    throw new Error(`${MYDOCS_CLI} is missing: run scripts/setup-python.sh (or set MYDOCS_CLI)`)
  }
  const out = execFileSync(MYDOCS_CLI, ["config", "keys", "--json"], { encoding: "utf8", env: cleanEnv() })
  const doc = JSON.parse(out) as { variables?: ConfigVariable[] }
  if (!Array.isArray(doc.variables) || doc.variables.length === 0) {
    throw new Error("mydocs config keys --json: no variables")
  }
  return doc.variables
}

/** `mydocs config check-parser FILE`: exit code and output of the backend's own validator. */
export function checkParser(text: string): { ok: boolean; output: string } {
  const dir = mkdtempSync(join(tmpdir(), "mydocs-parser-"))
  try {
    const file = join(dir, "parser.yml")
    writeFileSync(file, text)
    const r = spawnSync(MYDOCS_CLI, ["config", "check-parser", file], { encoding: "utf8", env: cleanEnv() })
    if (r.error) throw new Error(`${MYDOCS_CLI} not runnable: ${r.error.message}`)
    return { ok: r.status === 0, output: `${r.stdout}${r.stderr}`.trim() }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The environment without the backend's own variables, so the machine's settings do not leak in. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const k of ["PATH", "HOME", "LANG", "TMPDIR"]) if (process.env[k] !== undefined) env[k] = process.env[k]
  return env
}

// ---------- offline schema validation ----------

/** Kubernetes version whose OpenAPI-derived strict JSON schemas the objects are validated against. */
export const K8S_SCHEMA_VERSION = "1.33.0"
export const K8S_VALIDATE =
  process.env.K8S_VALIDATE_BIN ?? join(REPO, ".cache/k8s-validate/bin/kubernetes-validate")

export interface SchemaResult {
  ok: boolean
  output: string
}

/**
 * Validates objects with kubernetes-validate in strict mode (unknown fields are errors) against the
 * schemas shipped inside the pinned package: nothing is downloaded.
 */
export function validateSchemas(objs: K8sObject[]): SchemaResult {
  if (!existsSync(K8S_VALIDATE)) {
    throw new Error(`${K8S_VALIDATE} is missing: run scripts/test-pipeline.sh (it installs the pinned validator)`)
  }
  const dir = mkdtempSync(join(tmpdir(), "mydocs-schema-"))
  try {
    const files = objs.map((o, i) => {
      const f = join(dir, `${String(i).padStart(3, "0")}-${o.kind}-${o.metadata?.name ?? "unnamed"}.json`)
      writeFileSync(f, JSON.stringify(o))
      return f
    })
    const r = spawnSync(K8S_VALIDATE, ["--kubernetes-version", K8S_SCHEMA_VERSION, "--strict", "--quiet", ...files], {
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    })
    if (r.error) throw new Error(`${K8S_VALIDATE} not runnable: ${r.error.message}`)
    return { ok: r.status === 0, output: `${r.stdout}${r.stderr}`.trim() }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

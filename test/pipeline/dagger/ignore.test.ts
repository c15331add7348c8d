// The module's source filter (the `ignore` of the constructor's @argument in .dagger/src/index.ts)
// is kept in step with .dockerignore: what the images never see, the module never loads either.
import { spawnSync } from "node:child_process"
import { readdirSync, readFileSync } from "node:fs"
import { resolve } from "node:path"
import ts from "typescript"
import { describe, expect, it } from "vitest"
import { compareIgnoreLists, ignoreExcludes, parseIgnoreFile } from "../../../.dagger/src/ignore.js"

const ROOT = resolve(__dirname, "../../..")

/** .dockerignore patterns the module deliberately does not take: "*" starts its allowlist, but the
 * module needs the whole repository (tests, manifests, workflows, scripts). */
const KEPT_BY_MODULE = ["*"]

/** What must never enter the module or an image (sample paths). */
const SENSITIVE = [".env", "mydocs-ui/.env", ".env.production", "data/managed/ab/x.pdf", ".git/HEAD", ".git/config",
  "deploy/k8s/overlays/self-hosted/secret.yml", "deploy/k8s/overlays/azure/secret.yml", "node_modules/yaml/package.json",
  "mydocs-ui/node_modules/vue/package.json", "test/e2e/node_modules/x/index.js", ".venv/bin/python3",
  "config/parser.local.yml", "src/mydocs/__pycache__/app.cpython-311.pyc", "mydocs-ui/dist/index.html", ".dagger/sdk/index.ts"]

/** What the module itself needs besides the build contexts. */
const NEEDED_BY_MODULE = ["Dockerfile.backend", "Dockerfile.ui", ".dockerignore", "deploy/k8s/overlays/k3d/kustomization.yaml",
  "deploy/k8s/overlays/azure/kustomization.yaml", "deploy/k8s/base/secret.yml.example", "test/e2e/package.json",
  "test/e2e/package-lock.json", ".github/workflows/ci.yml", ".ci/run", "scripts/test.sh", ".env.example", "dagger.json"]

/** `git ls-files`; without a git work tree (inside `dagger call test`, whose source has no .git), the files on disk. */
function trackedFiles(): string[] {
  const git = spawnSync("git", ["ls-files"], { cwd: ROOT, encoding: "utf8" })
  if (git.status === 0) return git.stdout.split("\n").filter(Boolean)
  const out: string[] = []
  const skip = new Set([".git", "node_modules", ".venv", ".cache", "data"])
  const walk = (rel: string): void => {
    for (const e of readdirSync(resolve(ROOT, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name
      if (e.isDirectory()) {
        if (!skip.has(e.name)) walk(p)
      } else if (e.isFile()) out.push(p)
    }
  }
  walk("")
  return out
}

/** The literal array given as `ignore` to @argument in the source, read with the TypeScript parser. */
function moduleIgnoreList(): string[] {
  const file = resolve(ROOT, ".dagger/src/index.ts")
  const sf = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true)
  const found: string[][] = []
  const visit = (n: ts.Node): void => {
    if (ts.isDecorator(n) && ts.isCallExpression(n.expression) && n.expression.expression.getText(sf) === "argument") {
      const arg = n.expression.arguments[0]
      if (arg && ts.isObjectLiteralExpression(arg)) {
        for (const p of arg.properties) {
          if (ts.isPropertyAssignment(p) && p.name.getText(sf) === "ignore") {
            if (!ts.isArrayLiteralExpression(p.initializer)) throw new Error("ignore must be an array literal")
            found.push(p.initializer.elements.map((e) => {
              if (!ts.isStringLiteral(e)) throw new Error("ignore entries must be string literals")
              return e.text
            }))
          }
        }
      }
    }
    ts.forEachChild(n, visit)
  }
  visit(sf)
  if (found.length !== 1) throw new Error(`expected one @argument({ ignore }) in index.ts, found ${found.length}`)
  return found[0]!
}

describe("parseIgnoreFile / compareIgnoreLists", () => {
  it("reads patterns, dropping comments and blanks", () => {
    expect(parseIgnoreFile("# c\n\n.git\n  data/ \n**/node_modules\n")).toEqual([".git", "data/", "**/node_modules"])
  })
  it("reports both directions, ignoring trailing slashes and ./", () => {
    expect(compareIgnoreLists([".git", "data/", ".env", "test"], ["./.git", "data", "extra"], ["test"], [])).toEqual({
      missingInModule: [".env"],
      extraInModule: ["extra"],
    })
    expect(compareIgnoreLists(["a"], ["a", "b"], [], ["b"])).toEqual({ missingInModule: [], extraInModule: [] })
  })
})

describe("ignoreExcludes (.dockerignore semantics)", () => {
  it("applies patterns in order, with negation and parent directories", () => {
    const allow = ["*", "!src/", "!deploy/nginx.conf", "**/__pycache__", "**/.env"]
    expect(ignoreExcludes(allow, "src/mydocs/app.py")).toBe(false)
    expect(ignoreExcludes(allow, "src/mydocs/__pycache__/a.pyc")).toBe(true)
    expect(ignoreExcludes(allow, "deploy/nginx.conf")).toBe(false)
    expect(ignoreExcludes(allow, "deploy/k8s/base/x.yml")).toBe(true)
    expect(ignoreExcludes(allow, ".env")).toBe(true)
    expect(ignoreExcludes(allow, "src/.env")).toBe(true)
    expect(ignoreExcludes([".git", "data"], "database/x")).toBe(false)
    expect(ignoreExcludes([".git", "data"], "data/x")).toBe(true)
    expect(ignoreExcludes(["**/*.log", "!keep.log"], "a/b/c.log")).toBe(true)
    expect(ignoreExcludes(["**/*.log", "!keep.log"], "keep.log")).toBe(false)
    expect(ignoreExcludes(["deploy/k8s/overlays/*/secret.yml"], "deploy/k8s/overlays/azure/secret.yml")).toBe(true)
    expect(ignoreExcludes(["deploy/k8s/overlays/*/secret.yml"], "deploy/k8s/overlays/azure/x/secret.yml")).toBe(false)
  })
})

describe("the module's ignore list", () => {
  const dockerignore = parseIgnoreFile(readFileSync(resolve(ROOT, ".dockerignore"), "utf8"))
  const moduleList = moduleIgnoreList()

  it("has every exclusion of .dockerignore (kept in step)", () => {
    const denies = dockerignore.filter((p) => !p.startsWith("!"))
    const cmp = compareIgnoreLists(denies, moduleList.filter((p) => !p.startsWith("!")), KEPT_BY_MODULE,
      moduleList.filter((p) => !p.startsWith("!") && !denies.includes(p)))
    expect(cmp.missingInModule).toEqual([])
  })
  it("keeps secrets, data, .git and dependencies out of both the module and the images", () => {
    for (const p of SENSITIVE) {
      expect(ignoreExcludes(moduleList, p), `module loads ${p}`).toBe(true)
      expect(ignoreExcludes(dockerignore, p), `build context takes ${p}`).toBe(true)
    }
  })
  it("loads what the module needs", () => {
    for (const p of NEEDED_BY_MODULE) expect(ignoreExcludes(moduleList, p), p).toBe(false)
  })
  it("loads every tracked file a build context takes (dockerBuild runs on the module's source)", () => {
    const tracked = trackedFiles()
    expect(tracked.length).toBeGreaterThan(50)
    const inBuild = tracked.filter((f) => !ignoreExcludes(dockerignore, f))
    expect(inBuild.some((f) => f.startsWith("src/mydocs/"))).toBe(true)
    expect(inBuild.filter((f) => ignoreExcludes(moduleList, f))).toEqual([])
  })
})

// The module's manifest, package files and strict type-check against @dagger.io/dagger@0.21.8.
import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { resolve } from "node:path"
import { describe, expect, it } from "vitest"
import { ACTIONLINT_VERSION } from "../../../.dagger/src/versions.js"
import * as versions from "../../../.dagger/src/versions.js"

const ROOT = resolve(__dirname, "../../..")
const read = (p: string) => readFileSync(resolve(ROOT, p), "utf8")

describe("module files", () => {
  it("dagger.json pins engine v0.21.8, the TypeScript SDK and .dagger as source", () => {
    expect(JSON.parse(read("dagger.json"))).toEqual({
      name: "mydocs",
      engineVersion: "v0.21.8",
      sdk: { source: "typescript" },
      source: ".dagger",
    })
  })
  it(".dagger/package.json is an ES module with pinned dependencies; the type-check uses the root's SDK 0.21.8", () => {
    const pkg = JSON.parse(read(".dagger/package.json"))
    expect(pkg.type).toBe("module")
    for (const v of Object.values(pkg.dependencies as Record<string, string>)) expect(v).toMatch(/^\d+\.\d+\.\d+$/)
    expect(pkg.dependencies["@dagger.io/dagger"]).toBeUndefined() // the engine bundles the SDK (./sdk)
    // without a packageManager field the TypeScript runtime would pick yarn; the lock pins the rest
    expect(pkg.packageManager).toMatch(/^npm@\d+\.\d+\.\d+$/)
    const lock = JSON.parse(read(".dagger/package-lock.json"))
    expect(lock.packages[""].dependencies).toEqual(pkg.dependencies)
    for (const [name, version] of Object.entries(pkg.dependencies as Record<string, string>)) {
      expect(lock.packages[`node_modules/${name}`].version).toBe(version)
      expect(lock.packages[`node_modules/${name}`].integrity).toMatch(/^sha512-/)
    }
    expect(JSON.parse(read("package.json")).devDependencies["@dagger.io/dagger"]).toBe("0.21.8")
    expect(JSON.parse(read("node_modules/@dagger.io/dagger/package.json")).version).toBe("0.21.8")
  })
  it("strict tsc of .dagger/src passes with zero errors", () => {
    const tsc = resolve(ROOT, "node_modules/.bin/tsc")
    let out = ""
    try {
      out = execFileSync(tsc, ["-p", ".dagger/tsconfig.typecheck.json"], { cwd: ROOT, encoding: "utf8" })
    } catch (e) {
      out = String((e as { stdout?: string }).stdout ?? e)
    }
    expect(out).toBe("")
    expect(JSON.parse(read(".dagger/tsconfig.typecheck.json")).compilerOptions.strict).toBe(true)
  })
})

describe("pinned versions", () => {
  it("pins every image by a version tag (never latest) and every tool by a version", () => {
    for (const [k, v] of Object.entries(versions)) {
      if (typeof v !== "string") continue
      if (k.endsWith("_IMAGE")) expect(v, k).toMatch(/^[a-z0-9./-]+:[A-Za-z0-9_][A-Za-z0-9_.-]*$/)
      if (k.endsWith("_IMAGE")) expect(v, k).not.toMatch(/:latest$/)
      if (k.endsWith("_VERSION")) expect(v, k).toMatch(/^(controller-)?v\d+\.\d+\.\d+$/)
    }
  })
  it("uses the actionlint version scripts/install-lint-tools.sh installs", () => {
    expect(read("scripts/install-lint-tools.sh")).toContain(`ACTIONLINT_VERSION="${ACTIONLINT_VERSION}"`)
  })
})

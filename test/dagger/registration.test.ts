// The module as the TypeScript SDK's own introspection registers it (what `dagger functions` would list):
// every documented function with the argument names, defaults and enum values docs/dagger.md gives in its
// `### name(args)` headings, and no object whose constructor exposes a non-API type.
import { readFileSync } from "node:fs"
import path from "node:path"
import { describe, expect, it } from "vitest"

import { REPO } from "./lib/engine.js"
import { moduleIntrospection, type ArgDef } from "./lib/introspect.js"

const FUNCTIONS = ["buildBackend", "buildUi", "composeUp", "testOnK3d", "testOnCluster", "deployAks", "test", "lint", "renderManifests"]

interface DocArg { name: string; optional: boolean; default?: string }

/** `### deployAks(acrName, event = DeployEvent.LOCAL, appEnv?: Secret, …)` → its arguments */
function documented(fn: string): DocArg[] {
  const doc = readFileSync(path.join(REPO, "docs/dagger.md"), "utf8")
  const m = new RegExp(`^### ${fn}\\((.*)\\)`, "m").exec(doc)
  if (!m) throw new Error(`docs/dagger.md has no "### ${fn}(...)" heading`)
  if (m[1]!.trim() === "") return []
  return m[1]!.split(/,\s*/).map((part) => {
    const d = /^(\w+)(\?)?(?::\s*\w+)?(?:\s*=\s*(.+))?$/.exec(part.trim())
    if (!d) throw new Error(`docs/dagger.md ${fn}: cannot read argument "${part}"`)
    return { name: d[1]!, optional: d[2] === "?" || d[3] !== undefined, ...(d[3] !== undefined ? { default: d[3] } : {}) }
  })
}

/** the default as docs write it: "300s" for strings, true/false, Enum.VALUE */
function defaultAsWritten(a: ArgDef): string | undefined {
  if (a.defaultValue === undefined) return undefined
  if (a.type.kind === "ENUM_KIND") return `${a.type.name}.${String(a.defaultValue)}`
  if (typeof a.defaultValue === "string") return JSON.stringify(a.defaultValue)
  return String(a.defaultValue)
}

describe("module registration (SDK introspection of .dagger/src)", () => {
  it("registers the Mydocs object with exactly the documented functions", async () => {
    const m = await moduleIntrospection()
    expect(m.name).toBe("Mydocs")
    expect(Object.keys(m.objects["Mydocs"]!.methods).sort()).toEqual([...FUNCTIONS].sort())
  })

  for (const fn of FUNCTIONS) {
    it(`${fn}: argument names, order, optionality and defaults as docs/dagger.md documents them`, async () => {
      const def = (await moduleIntrospection()).objects["Mydocs"]!.methods[fn]!
      const args = Object.values(def.arguments)
      const docs = documented(fn)
      expect(args.map((a) => a.name)).toEqual(docs.map((d) => d.name))
      for (const [i, a] of args.entries()) {
        const d = docs[i]!
        expect(defaultAsWritten(a), `${fn}.${a.name} default`).toBe(d.default)
        expect(a.isOptional || a.defaultValue !== undefined, `${fn}.${a.name} optional`).toBe(d.optional)
      }
    })
  }

  it("lists every enum value the docs use, and nothing else", async () => {
    const m = await moduleIntrospection()
    expect(Object.keys(m.enums["Overlay"]!.values)).toEqual(["SELF_HOSTED", "AZURE", "K3D"])
    expect(Object.keys(m.enums["DeployEvent"]!.values)).toEqual(["PUSH", "PULL_REQUEST", "WORKFLOW_DISPATCH", "LOCAL"])
    const doc = readFileSync(path.join(REPO, "docs/dagger.md"), "utf8")
    for (const e of Object.values(m.enums)) for (const v of Object.keys(e.values)) expect(doc, v).toContain(v)
  })

  it("exposes no interface types, and constructors take only API types", async () => {
    const m = await moduleIntrospection()
    expect(Object.keys(m.interfaces)).toEqual([])
    const apiKinds = new Set(["STRING_KIND", "BOOLEAN_KIND", "INTEGER_KIND", "FLOAT_KIND", "OBJECT_KIND", "LIST_KIND", "ENUM_KIND"])
    for (const o of Object.values(m.objects)) {
      for (const a of Object.values(o.constructor?.arguments ?? {})) expect(apiKinds.has(a.type.kind), `${o.name}(${a.name}: ${a.type.kind})`).toBe(true)
    }
  })

  it("fails on a module whose object constructor takes a TypeScript interface (the defect this guards)", async () => {
    const { mkdtempSync, writeFileSync } = await import("node:fs")
    const os = await import("node:os")
    const dir = mkdtempSync(path.join(os.tmpdir(), "mydocs-bad-module-"))
    writeFileSync(path.join(dir, "index.ts"), [
      'import { func, object } from "@dagger.io/dagger"',
      "export interface Run { ok: boolean }",
      "@object() export class Rep { @func() ok: boolean; constructor(r: Run) { this.ok = r.ok } }",
      "@object() export class Mydocs { @func() rep(): Rep { return new Rep({ ok: true }) } }",
      "",
    ].join("\n"))
    const bad = await moduleIntrospection(dir)
    expect(Object.keys(bad.interfaces)).toEqual(["Run"])
  })
})

/**
 * The module as the TypeScript SDK's own introspection registers it: @dagger.io/dagger's
 * introspection entrypoint (what the module runtime runs) in DRY_RUN mode over .dagger/src. Its scanner
 * wants the SDK's client.gen.ts among the files; the npm package ships the declarations of that file, so
 * a copy named client.gen.ts stands in for it (same declarations, same version as the module's SDK).
 */
import { execFile } from "node:child_process"
import { copyFileSync, mkdtempSync } from "node:fs"
import { createRequire } from "node:module"
import os from "node:os"
import path from "node:path"
import { promisify } from "node:util"
import { fileURLToPath } from "node:url"

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")

export interface ArgDef {
  name: string
  type: { kind: string; name?: string }
  isOptional: boolean
  isNullable: boolean
  defaultValue?: unknown
  defaultPath?: string
  ignore?: string[]
}
export interface FuncDef { name: string; arguments: Record<string, ArgDef>; returnType: { kind: string; name?: string }; cache?: string }
export interface ObjectDef {
  name: string
  constructor?: { arguments: Record<string, ArgDef> }
  methods: Record<string, FuncDef>
  properties: Record<string, { name: string; type: { kind: string; name?: string } }>
}
export interface ModuleDef {
  name: string
  objects: Record<string, ObjectDef>
  enums: Record<string, { values: Record<string, { name: string; value: string }> }>
  interfaces: Record<string, unknown>
}

let cached: Promise<ModuleDef> | undefined

export function moduleIntrospection(srcDir = path.join(REPO, ".dagger/src")): Promise<ModuleDef> {
  if (srcDir === path.join(REPO, ".dagger/src") && cached) return cached
  const run = async (): Promise<ModuleDef> => {
    const sdkEntry = createRequire(path.join(REPO, "package.json")).resolve("@dagger.io/dagger")
    const sdkDir = path.dirname(sdkEntry) // dist/src
    const tmp = mkdtempSync(path.join(os.tmpdir(), "mydocs-introspect-"))
    const clientGen = path.join(tmp, "client.gen.ts")
    copyFileSync(path.join(sdkDir, "api/client.gen.d.ts"), clientGen)
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [path.join(sdkDir, "module/entrypoint/introspection_entrypoint.js"), "mydocs", srcDir, clientGen],
      { env: { ...process.env, DRY_RUN: "1" }, maxBuffer: 64 << 20 },
    )
    return JSON.parse(stdout) as ModuleDef
  }
  const p = run()
  if (srcDir === path.join(REPO, ".dagger/src")) cached = p
  return p
}

/**
 * One Dagger session per test file, through `connection()` of @dagger.io/dagger — the same client the
 * module's code uses — on the engine scripts/dagger-engine.sh started. No engine is a failure, never a skip.
 */
import { connection, dag, type Directory } from "@dagger.io/dagger"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll } from "vitest"

import { moduleIntrospection } from "./introspect.js"

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")

export function requireEngine(): void {
  for (const name of ["_EXPERIMENTAL_DAGGER_RUNNER_HOST", "_EXPERIMENTAL_DAGGER_CLI_BIN"]) {
    if (!process.env[name]) {
      throw new Error(`${name} is not set: run through scripts/test-dagger.sh, or eval "$(bash scripts/dagger-engine.sh up)" first`)
    }
  }
}

/** Opens the session before the file's tests and closes it after them. */
export function useEngine(): void {
  let release: (() => void) | undefined
  let done: Promise<void> | undefined
  beforeAll(async () => {
    requireEngine()
    await new Promise<void>((ready, fail) => {
      done = connection(
        () => new Promise<void>((r) => { release = r; ready() }),
        { LogOutput: process.env.MYDOCS_DAGGER_LOG ? process.stderr : undefined },
      ).catch(fail)
    })
  })
  afterAll(async () => {
    release?.()
    await done
  })
}

/**
 * The repository as the module runtime would load it for the constructor's `source` argument:
 * `defaultPath: "/"` with the `ignore` list the SDK's introspection reads from .dagger/src.
 */
export async function moduleSource(root = REPO): Promise<Directory> {
  const ctor = (await moduleIntrospection()).objects["Mydocs"]?.constructor?.arguments["source"]
  if (!ctor?.ignore || ctor.defaultPath !== "/") throw new Error("Mydocs(source) lost its defaultPath/ignore")
  return dag.host().directory(root, { exclude: ctor.ignore })
}

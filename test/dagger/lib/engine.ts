/**
 * One Dagger session per test file, through `connection()` of @dagger.io/dagger — the same client the
 * module's code uses — on the engine scripts/dagger-engine.sh started. No engine is a failure, never a skip.
 */
import { connection, dag, type Directory } from "@dagger.io/dagger"
import { readFileSync } from "node:fs"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll } from "vitest"

import { Mydocs } from "../../../.dagger/src/index.js"
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

/**
 * The module as a user behind this machine's TLS-intercepting proxy calls it: `--ca-bundle` with the
 * machine's CA bundle (the stand-in bases, like the official ones, do not carry it; Node's npm ignores
 * the system store the engine fills, so the UI build needs the bundle as its build secret).
 */
export async function mydocs(source?: Directory): Promise<Mydocs> {
  const ca = process.env.MYDOCS_CA_BUNDLE ?? "/etc/ssl/certs/ca-certificates.crt"
  return new Mydocs(source ?? (await moduleSource()), dag.setSecret("host-ca-bundle", readFileSync(ca, "utf8")))
}

// The suite's configuration, read once from the environment (docs/contracts.md §5, docs/e2e.md).
// An empty string counts as unset; a bad value is an error that names the variable.
import path from "node:path"
import { fileURLToPath } from "node:url"

export const E2E_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")

export interface E2EConfig {
  /** Origin (and optional path prefix) of the deployment, without a trailing slash. */
  baseUrl: string
  /** Bearer token sent with every /api call, when given. */
  authToken: string | undefined
  /** true: the deployment must answer 401 to /api/v1 without a token. */
  expectAuth: boolean
  skipBrowser: boolean
  artifactsDir: string
  chromiumPath: string
}

export class ConfigError extends Error {}

function get(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name]
  return v === undefined || v.trim() === "" ? undefined : v.trim()
}

function flag(env: NodeJS.ProcessEnv, name: string): boolean {
  const v = get(env, name)
  if (v === undefined || v === "0") return false
  if (v === "1") return true
  throw new ConfigError(`${name} must be 1 or 0 (got ${JSON.stringify(v.slice(0, 40))})`)
}

/** Parse and validate; throws ConfigError with one line per problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): E2EConfig {
  const problems: string[] = []
  const attempt = <T>(fn: () => T, fallback: T): T => {
    try {
      return fn()
    } catch (e) {
      problems.push((e as Error).message)
      return fallback
    }
  }

  // Vite overwrites process.env.BASE_URL ("/") inside test workers, so vitest.config.ts hands the
  // user's value over as E2E_RESOLVED_BASE_URL; outside vitest (persistence.ts) BASE_URL is read as is.
  const rawBase = get(env, "E2E_RESOLVED_BASE_URL") ?? get(env, "BASE_URL")
  let baseUrl = ""
  if (rawBase === undefined) {
    problems.push("BASE_URL is required: the URL MyDocs is served at, e.g. BASE_URL=http://localhost:8080")
  } else {
    let u: URL | undefined
    try {
      u = new URL(rawBase)
    } catch {
      problems.push(`BASE_URL is not a URL: ${JSON.stringify(rawBase.slice(0, 200))}`)
    }
    if (u) {
      if (u.protocol !== "http:" && u.protocol !== "https:") problems.push(`BASE_URL must be http:// or https:// (got ${u.protocol})`)
      else if (u.username || u.password) problems.push("BASE_URL must not carry credentials; use E2E_AUTH_TOKEN")
      else if (u.search || u.hash) problems.push("BASE_URL must not have a query or fragment")
      else baseUrl = `${u.origin}${u.pathname.replace(/\/+$/, "")}`
    }
  }

  const authToken = get(env, "E2E_AUTH_TOKEN")
  if (authToken !== undefined && /[\s\r\n]/.test(authToken)) problems.push("E2E_AUTH_TOKEN must be one token without whitespace")
  const expectAuth = attempt(() => flag(env, "E2E_EXPECT_AUTH"), false)
  const skipBrowser = attempt(() => flag(env, "E2E_SKIP_BROWSER"), false)
  const artifactsDir = path.resolve(E2E_DIR, get(env, "E2E_ARTIFACTS") ?? "artifacts")
  const chromiumPath = get(env, "CHROMIUM_PATH") ?? "/usr/bin/chromium"

  if (problems.length) throw new ConfigError(problems.join("\n"))
  return { baseUrl, authToken, expectAuth, skipBrowser, artifactsDir, chromiumPath }
}

let cached: E2EConfig | undefined
export function config(): E2EConfig {
  cached ??= loadConfig()
  return cached
}

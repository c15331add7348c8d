/**
 * The backend's settings as the pipeline sees them: the key list printed by
 * `mydocs config keys --json` (docs/contracts.md §2), a `.env` parser, and the choice of which
 * entries go into the Kubernetes Secret `mydocs-secrets`.
 *
 * Error messages name keys and line numbers, never values: a value may be a password.
 */

export interface ConfigKey {
  name: string
  required: boolean
  /** true: the value belongs in the Kubernetes Secret */
  secret: boolean
  default: string | number | boolean | null
  description: string
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** Parses and checks the JSON of `mydocs config keys --json`. */
export function parseConfigKeys(json: string): ConfigKey[] {
  let doc: unknown
  try {
    doc = JSON.parse(json)
  } catch (e) {
    throw new Error(`mydocs config keys --json: not JSON (${(e as Error).message})`)
  }
  if (typeof doc !== "object" || doc === null || !Array.isArray((doc as { variables?: unknown }).variables)) {
    throw new Error('mydocs config keys --json: expected {"variables": [...]}')
  }
  const vars = (doc as { variables: unknown[] }).variables
  if (vars.length === 0) {
    throw new Error("mydocs config keys --json: the variable list is empty")
  }
  const seen = new Set<string>()
  return vars.map((v, i) => {
    if (typeof v !== "object" || v === null) {
      throw new Error(`mydocs config keys --json: variables[${i}] is not an object`)
    }
    const o = v as Record<string, unknown>
    if (typeof o.name !== "string" || !ENV_NAME.test(o.name)) {
      throw new Error(`mydocs config keys --json: variables[${i}].name is not an environment variable name`)
    }
    if (typeof o.required !== "boolean" || typeof o.secret !== "boolean") {
      throw new Error(`mydocs config keys --json: ${o.name}: "required" and "secret" must be booleans`)
    }
    const d = o.default
    if (!(d === null || d === undefined || ["string", "number", "boolean"].includes(typeof d))) {
      throw new Error(`mydocs config keys --json: ${o.name}: "default" must be a scalar or null`)
    }
    if (seen.has(o.name)) {
      throw new Error(`mydocs config keys --json: ${o.name} is listed twice`)
    }
    seen.add(o.name)
    return {
      name: o.name,
      required: o.required,
      secret: o.secret,
      default: (d ?? null) as ConfigKey["default"],
      description: typeof o.description === "string" ? o.description : "",
    }
  })
}

/** Names of the keys that belong in the Kubernetes Secret, in the backend's order. */
export function secretKeyNames(keys: ConfigKey[]): string[] {
  return keys.filter((k) => k.secret).map((k) => k.name)
}

/**
 * Parses a `.env` file: `KEY=value` lines, `#` comments, blank lines, an optional `export ` prefix,
 * values optionally in single quotes (literal) or double quotes (`\n`, `\"`, `\\` escapes).
 * A duplicated key, a line without `=` or a bad name is an error (line number, no value).
 */
export function parseDotenv(text: string): Map<string, string> {
  const out = new Map<string, string>()
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/)
  lines.forEach((raw, idx) => {
    const lineNo = idx + 1
    const line = raw.trim()
    if (line === "" || line.startsWith("#")) return
    const body = line.startsWith("export ") ? line.slice("export ".length).trimStart() : line
    const eq = body.indexOf("=")
    if (eq <= 0) {
      throw new Error(`.env line ${lineNo}: expected KEY=value`)
    }
    const key = body.slice(0, eq).trim()
    if (!ENV_NAME.test(key)) {
      throw new Error(`.env line ${lineNo}: "${key}" is not a valid variable name`)
    }
    let value = body.slice(eq + 1).trim()
    if (value.startsWith('"')) {
      const m = /^"((?:[^"\\]|\\.)*)"\s*(#.*)?$/.exec(value)
      if (!m) throw new Error(`.env line ${lineNo}: ${key}: unterminated double-quoted value`)
      value = m[1]!.replace(/\\(.)/g, (_s, c: string) => (c === "n" ? "\n" : c))
    } else if (value.startsWith("'")) {
      const m = /^'([^']*)'\s*(#.*)?$/.exec(value)
      if (!m) throw new Error(`.env line ${lineNo}: ${key}: unterminated single-quoted value`)
      value = m[1]!
    } else {
      // unquoted: an inline comment needs a space before '#'
      value = value.replace(/\s+#.*$/, "")
    }
    if (out.has(key)) {
      throw new Error(`.env line ${lineNo}: ${key} is set twice`)
    }
    out.set(key, value)
  })
  return out
}

export interface SecretSelection {
  /** the entries that go into `mydocs-secrets`, in the backend's key order */
  entries: Array<[string, string]>
  /** keys present but empty: left out so the backend's defaults apply */
  skippedEmpty: string[]
  /** required secret keys with no value */
  missingRequired: string[]
}

/**
 * Chooses the Secret's entries from a parsed `.env`: keys the backend marks `secret: true`, with a
 * non-empty value (an empty value would override a default with ""). A key the backend does not
 * read, or a plain (non-secret) setting, is an error: typos must not deploy silently, and plain
 * settings belong in the overlay.
 */
export function selectSecretEntries(env: Map<string, string>, keys: ConfigKey[]): SecretSelection {
  const byName = new Map(keys.map((k) => [k.name, k]))
  const unknown = [...env.keys()].filter((n) => !byName.has(n))
  if (unknown.length > 0) {
    throw new Error(`the .env names variables the backend does not read: ${unknown.sort().join(", ")}`)
  }
  const plain = [...env.keys()].filter((n) => !byName.get(n)!.secret)
  if (plain.length > 0) {
    throw new Error(
      `the .env sets plain settings that belong in the overlay, not in mydocs-secrets: ${plain.sort().join(", ")}`,
    )
  }
  const entries: Array<[string, string]> = []
  const skippedEmpty: string[] = []
  const missingRequired: string[] = []
  for (const k of keys) {
    if (!k.secret) continue
    const v = env.get(k.name)
    if (v === undefined || v === "") {
      if (v === "") skippedEmpty.push(k.name)
      if (k.required) missingRequired.push(k.name)
      continue
    }
    entries.push([k.name, v])
  }
  return { entries, skippedEmpty, missingRequired }
}

/**
 * Renders entries in the format `kubectl create secret generic --from-env-file` reads: one
 * `KEY=value` per line, the value taken literally. A value with a line break cannot be written
 * there and is refused (by key name).
 */
export function renderEnvFile(entries: Array<[string, string]>): string {
  return entries
    .map(([k, v]) => {
      if (!ENV_NAME.test(k)) throw new Error(`secret key "${k}" is not a valid variable name`)
      if (/[\r\n]/.test(v)) throw new Error(`${k}: a value with a line break cannot go into an env file`)
      return `${k}=${v}\n`
    })
    .join("")
}

/**
 * The variables of a `.env` (a Compose-style file, which may also hold Compose-only variables such
 * as UI_PORT) that the backend reads, with empty values dropped. Returns the entries to set and the
 * names that were ignored.
 */
export function backendEnvEntries(
  env: Map<string, string>,
  keys: ConfigKey[],
): { entries: Array<[string, string]>; ignored: string[] } {
  const known = new Set(keys.map((k) => k.name))
  const entries: Array<[string, string]> = []
  const ignored: string[] = []
  for (const [k, v] of env) {
    if (!known.has(k)) ignored.push(k)
    else if (v !== "") entries.push([k, v])
  }
  return { entries, ignored: ignored.sort() }
}

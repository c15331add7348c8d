/**
 * Ignore files: the module's source filter is kept in step with `.dockerignore` (a unit test
 * compares them). These helpers read a `.dockerignore`-style file and compare pattern lists.
 */

/** Patterns of a `.dockerignore`: comments and blank lines dropped, whitespace trimmed. */
export function parseIgnoreFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
}

function norm(p: string): string {
  return p.replace(/^\.\//, "").replace(/\/+$/, "")
}

export interface IgnoreComparison {
  /** in .dockerignore, neither in the module's list nor deliberately kept */
  missingInModule: string[]
  /** in the module's list but not in .dockerignore (and not a module-only pattern) */
  extraInModule: string[]
}

/**
 * Compares the module's ignore list with `.dockerignore`. `keptByModule` are `.dockerignore`
 * patterns the module deliberately does not ignore (it needs those files, e.g. the e2e suite or
 * the workflows); `moduleOnly` are patterns only the module needs. Trailing slashes and a leading
 * `./` do not matter.
 */
export function compareIgnoreLists(
  dockerignore: string[],
  moduleIgnore: string[],
  keptByModule: string[] = [],
  moduleOnly: string[] = [],
): IgnoreComparison {
  const d = new Set(dockerignore.map(norm))
  const m = new Set(moduleIgnore.map(norm))
  const kept = new Set(keptByModule.map(norm))
  const only = new Set(moduleOnly.map(norm))
  return {
    missingInModule: [...d].filter((p) => !m.has(p) && !kept.has(p)).sort(),
    extraInModule: [...m].filter((p) => !d.has(p) && !only.has(p)).sort(),
  }
}

function patternRegex(pattern: string): RegExp {
  let p = pattern.replace(/^\.\//, "").replace(/^\/+/, "").replace(/\/+$/, "")
  let re = ""
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!
    if (c === "*" && p[i + 1] === "*") {
      const atStart = i === 0 || p[i - 1] === "/"
      const slashAfter = p[i + 2] === "/"
      if (atStart && slashAfter) {
        re += "(?:.*/)?"
        i += 2
      } else {
        re += ".*"
        i += 1
      }
    } else if (c === "*") {
      re += "[^/]*"
    } else if (c === "?") {
      re += "[^/]"
    } else {
      re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&")
    }
  }
  p = re
  return new RegExp(`^${p}$`)
}

/**
 * Whether a `.dockerignore`-style list (also Dagger's `ignore`) excludes a path: patterns in order,
 * `!` re-includes, the last matching pattern wins, and a pattern that matches a parent directory
 * matches everything below it.
 */
export function ignoreExcludes(patterns: string[], path: string): boolean {
  const parts = path.replace(/^\.\//, "").split("/")
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join("/"))
  let excluded = false
  for (const raw of patterns) {
    const negate = raw.startsWith("!")
    const re = patternRegex(negate ? raw.slice(1) : raw)
    if (prefixes.some((p) => re.test(p))) excluded = !negate
  }
  return excluded
}

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

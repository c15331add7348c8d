// The Docker commands the README (and docs/images-and-compose.md) show, as scripts/test-e2e.sh runs
// them: every `docker ...` / `cp .env.example .env` line of a ```bash block (continuations joined,
// trailing comments dropped), each given the kind of step the e2e run performs with it. A command of no
// known kind, or two different commands of one kind, is an error: no README command stays untested.
//   npx tsx test/pipeline/images/readme-commands.ts README.md docs/images-and-compose.md
// prints one "kind<TAB>command" line per kind (exit 1 with one line per problem).
import { readFileSync } from "node:fs"

export type Kind = "env-copy" | "build-backend" | "build-ui" | "up" | "logs" | "down"

const KINDS: [Kind, RegExp][] = [
  ["env-copy", /^cp \.env\.example \.env$/],
  ["build-backend", /^docker build (?:\S+ )*-f Dockerfile\.backend (?:\S+ )*\.$/],
  ["build-ui", /^docker build (?:\S+ )*-f Dockerfile\.ui (?:\S+ )*\.$/],
  ["up", /^docker compose (?:--profile local )?up -d --build$/],
  ["logs", /^docker compose logs (?:-f )?backend$/],
  ["down", /^docker compose (?:--profile local )?down$/],
]

/** Shell lines of the ```bash blocks, continuations joined, comments (full-line and trailing) dropped. */
export function bashLines(markdown: string): string[] {
  const out: string[] = []
  let inBash = false
  let pending = ""
  for (const raw of markdown.split("\n")) {
    if (/^```/.test(raw)) { inBash = !inBash && /^```(bash|sh)\s*$/.test(raw); pending = ""; continue }
    if (!inBash) continue
    let line = raw.replace(/(^|\s)#.*$/, "").trimEnd()
    const cont = line.endsWith("\\")
    if (cont) line = line.slice(0, -1)
    pending = (pending + " " + line.trim()).trim()
    if (!cont) { if (pending) out.push(pending.replace(/\s+/g, " ")); pending = "" }
  }
  return out
}

/** The Docker commands of the markdown files by kind, and the problems (unknown or ambiguous commands). */
export function readmeCommands(markdown: string[]): { commands: Map<Kind, string>; problems: string[] } {
  const commands = new Map<Kind, string>()
  const problems: string[] = []
  for (const line of markdown.flatMap(bashLines)) {
    if (!/^(docker|docker-compose|DOCKER_\w+=\S* docker|cp \.env)\b/.test(line)) continue
    const kind = KINDS.find(([, re]) => re.test(line))?.[0]
    if (!kind) { problems.push(`no e2e step runs this command: ${line}`); continue }
    const seen = commands.get(kind)
    if (seen !== undefined && seen !== line) problems.push(`two different ${kind} commands (the e2e runs one): "${seen}" and "${line}"`)
    else commands.set(kind, line)
  }
  for (const [kind] of KINDS) if (!commands.has(kind)) problems.push(`no ${kind} command found`)
  return { commands, problems }
}

if (process.argv[1]?.endsWith("readme-commands.ts")) {
  const { commands, problems } = readmeCommands(process.argv.slice(2).map((f) => readFileSync(f, "utf8")))
  if (problems.length) {
    for (const p of problems) console.error(`readme-commands: ${p}`)
    process.exit(1)
  }
  for (const [kind, cmd] of commands) console.log(`${kind}\t${cmd}`)
}

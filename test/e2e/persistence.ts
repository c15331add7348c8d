// Persistence check across a restart of the stack, in two steps (docs/e2e.md):
//   npx tsx persistence.ts seed    uploads a known document and writes its id + sha256 to a state file
//   (docker compose --profile local down && docker compose --profile local up -d, or a pod restart)
//   npx tsx persistence.ts verify  checks the record and the bytes are still there, then deletes it
// Options: --state FILE (default $E2E_ARTIFACTS/persistence-state.json), --wait SECONDS (readiness
// grace period, default 90), --keep (verify without deleting, e.g. to check several restarts).
// Environment: BASE_URL (required), E2E_AUTH_TOKEN, E2E_ARTIFACTS. Exit 0 ok, 1 check failed, 2 usage.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises"
import path from "node:path"
import { parseArgs } from "node:util"
import { deleteDocument, findByName, getDocument, runName, upload, type Document } from "./lib/api.js"
import { MiB, freshSeed, sha256Of } from "./lib/content.js"
import { ConfigError, config } from "./lib/env.js"
import { digest, get, json } from "./lib/http.js"

interface State {
  base_url: string
  id: string
  name: string
  size: number
  sha256: string
  seed: string
  tags: string[]
  seeded_at: string
}

const USAGE = "usage: tsx persistence.ts seed|verify [--state FILE] [--wait SECONDS] [--keep]"
class CheckFailed extends Error {}

function check(ok: boolean, what: string): void {
  if (!ok) throw new CheckFailed(what)
  console.log(`persistence: ok: ${what}`)
}

async function waitReady(seconds: number): Promise<void> {
  const deadline = Date.now() + seconds * 1000
  let last = ""
  for (;;) {
    try {
      const res = await get("/health/ready", { timeoutMs: 5_000 })
      if (res.status === 200) return
      last = `HTTP ${res.status} ${res.body.toString().slice(0, 200)}`
    } catch (e) {
      last = (e as Error).message
    }
    if (Date.now() > deadline) throw new CheckFailed(`${config().baseUrl}/health/ready not 200 within ${seconds} s (last: ${last})`)
    await new Promise((r) => setTimeout(r, 1_000))
  }
}

async function readState(file: string): Promise<State | undefined> {
  let text: string
  try {
    text = await readFile(file, "utf8")
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined
    throw e
  }
  const s = JSON.parse(text) as State
  if (!/^[0-9a-f]{32}$/.test(s.id ?? "") || !/^[0-9a-f]{64}$/.test(s.sha256 ?? "")) throw new Error(`${file}: not a persistence state file`)
  return s
}

async function seed(stateFile: string, wait: number): Promise<void> {
  await waitReady(wait)
  const earlier = await readState(stateFile)
  if (earlier) {
    const res = await deleteDocument(earlier.id)
    console.log(`persistence: an earlier seed's document ${earlier.id} was ${res.status === 204 ? "deleted" : `not there (HTTP ${res.status})`}`)
  }
  const file = { name: runName("persistence"), seed: freshSeed(), size: 2 * MiB + 77 }
  const tags = ["e2e-persistence"]
  const { res, sent } = await upload([file], tags.join(","))
  if (res.status !== 201) throw new CheckFailed(`upload: HTTP ${res.status} ${res.body.toString().slice(0, 300)}`)
  const [r] = json<{ results: { document: Document; duplicate: boolean }[] }>(res).results
  check(!r.duplicate && r.document.sha256 === sent[0] && r.document.size === file.size, `uploaded ${file.name} (${r.document.id})`)
  const state: State = {
    base_url: config().baseUrl,
    id: r.document.id,
    name: file.name,
    size: file.size,
    sha256: sent[0],
    seed: file.seed,
    tags,
    seeded_at: new Date().toISOString(),
  }
  await mkdir(path.dirname(stateFile), { recursive: true })
  await writeFile(stateFile, `${JSON.stringify(state, null, 2)}\n`)
  console.log(`persistence: seeded; state in ${stateFile}`)
}

async function verify(stateFile: string, wait: number, keep: boolean): Promise<void> {
  const s = await readState(stateFile)
  if (!s) throw new CheckFailed(`no state file ${stateFile}: run "seed" first`)
  await waitReady(wait)
  try {
    check(sha256Of(s.seed, s.size) === s.sha256, "the state file is consistent (seed regenerates the sha256)")
    const res = await getDocument(s.id)
    check(res.status === 200, `record ${s.id} is there (HTTP ${res.status})`)
    const doc = json<Document>(res)
    check(
      doc.name === s.name && doc.size === s.size && doc.sha256 === s.sha256 && JSON.stringify(doc.tags) === JSON.stringify(s.tags),
      `record fields unchanged (name, size, sha256, tags)`,
    )
    check((await findByName(s.name)).some((d) => d.id === s.id), "listed by a search on its name")
    const down = await digest(`/api/v1/documents/${s.id}/file`)
    check(down.status === 200 && down.size === s.size && down.sha256 === s.sha256, `file bytes identical (${down.size} bytes, sha256 ${down.sha256.slice(0, 12)}…)`)
  } finally {
    if (!keep) {
      const del = await deleteDocument(s.id).catch((e: Error) => ({ status: 0, body: Buffer.from(e.message) }))
      if (del.status === 204 || del.status === 404) await rm(stateFile, { force: true })
      console.log(`persistence: cleanup: DELETE ${s.id} -> ${del.status || del.body.toString()}`)
    }
  }
  if (!keep) check((await getDocument(s.id)).status === 404, "deleted afterwards")
}

async function main(): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: { state: { type: "string" }, wait: { type: "string", default: "90" }, keep: { type: "boolean", default: false } },
    })
  } catch (e) {
    console.error(`persistence: ${(e as Error).message}\n${USAGE}`)
    return 2
  }
  const [step, ...extra] = parsed.positionals
  const wait = Number(parsed.values.wait)
  if ((step !== "seed" && step !== "verify") || extra.length || !Number.isFinite(wait) || wait < 0) {
    console.error(USAGE)
    return 2
  }
  try {
    const cfg = config()
    const stateFile = path.resolve(parsed.values.state ?? path.join(cfg.artifactsDir, "persistence-state.json"))
    if (step === "seed") await seed(stateFile, wait)
    else await verify(stateFile, wait, parsed.values.keep!)
    console.log(`persistence ${step}: passed`)
    return 0
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(`persistence: bad configuration:\n${e.message}`)
      return 2
    }
    console.error(`persistence ${step}: FAILED: ${(e as Error).message}`)
    return 1
  }
}

process.exitCode = await main()

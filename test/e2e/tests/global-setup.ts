// Before any test: the configuration is valid, the artifacts folder exists, and BASE_URL answers.
// A deployment that was just started gets a bounded grace period (60 s) to answer GET /health.
import { mkdir, readdir, rm } from "node:fs/promises"
import path from "node:path"
import { config } from "../lib/env.js"
import { get } from "../lib/http.js"

export default async function setup(): Promise<void> {
  const cfg = config()
  await mkdir(cfg.artifactsDir, { recursive: true })
  // screenshots of an earlier run would be mistaken for this one's (other files, e.g. a persistence state, stay)
  for (const f of await readdir(cfg.artifactsDir)) if (/^browser-.*\.png$/.test(f)) await rm(path.join(cfg.artifactsDir, f))
  const deadline = Date.now() + 60_000
  let last = ""
  for (;;) {
    try {
      const res = await get("/health", { timeoutMs: 5_000 })
      if (res.status === 200) break
      last = `HTTP ${res.status}`
    } catch (e) {
      last = (e as Error).message
    }
    if (Date.now() > deadline) throw new Error(`${cfg.baseUrl}/health did not answer 200 within 60 s (last: ${last})`)
    await new Promise((r) => setTimeout(r, 1_000))
  }
  console.log(
    `e2e: BASE_URL=${cfg.baseUrl} auth-token=${cfg.authToken ? "given" : "none"} expect-auth=${cfg.expectAuth} ` +
      `browser=${cfg.skipBrowser ? "skipped" : cfg.chromiumPath} artifacts=${cfg.artifactsDir}`,
  )
}

// A real browser: Debian's Chromium driven by playwright-core opens the SPA, uploads a file through the
// UI, finds it listed, opens it (also by deep link), downloads it and checks the bytes, then deletes it.
// Screenshots go to E2E_ARTIFACTS. With auth on, the SPA must send the browser to its sign-in page.
import { createHash } from "node:crypto"
import { constants } from "node:fs"
import { access, mkdtemp, readFile, rm } from "node:fs/promises"
import os from "node:os"
import path from "node:path"
import { chromium, type BrowserContext, type Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { cleanup, findByName, getDocument, runName, track } from "../lib/api.js"
import { bytes, freshSeed } from "../lib/content.js"
import { config } from "../lib/env.js"
import { get, json } from "../lib/http.js"

const cfg = config()
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
]

// Is the API open to this browser? A browser has no E2E_AUTH_TOKEN: with auth on it meets the sign-in page.
const infoRes = await get("/api/v1/info", { auth: false })
const authOn = infoRes.status === 401 || (infoRes.status === 200 && json(infoRes).auth_enabled === true)

describe.skipIf(cfg.skipBrowser)("the SPA in Chromium", () => {
  let userDataDir: string
  let context: BrowserContext
  let page: Page
  const problems: string[] = []
  let shot = 0

  const screenshot = async (label: string) => {
    shot += 1
    await page.screenshot({ path: path.join(cfg.artifactsDir, `browser-${String(shot).padStart(2, "0")}-${label}.png`), fullPage: true })
  }

  beforeAll(async () => {
    await access(cfg.chromiumPath, constants.X_OK).catch(() => {
      throw new Error(`no Chromium at CHROMIUM_PATH=${cfg.chromiumPath}: install it (Debian: apt-get install chromium), point CHROMIUM_PATH at it, or set E2E_SKIP_BROWSER=1`)
    })
    userDataDir = await mkdtemp(path.join(os.tmpdir(), "mydocs-e2e-chromium-"))
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: cfg.chromiumPath,
      headless: true,
      args: CHROMIUM_ARGS,
      acceptDownloads: true,
      viewport: { width: 1280, height: 900 },
      timeout: 60_000,
    })
    page = context.pages()[0] ?? (await context.newPage())
    page.setDefaultTimeout(30_000)
    // CSP violations, uncaught errors and failed requests are bugs wherever they show up
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(`console: ${m.text()}`)
    })
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`))
    page.on("requestfailed", (r) => {
      // a request cancelled by a navigation (net::ERR_ABORTED) is the browser's doing, not a failure
      const reason = r.failure()?.errorText ?? ""
      if (!reason.includes("ERR_ABORTED")) problems.push(`requestfailed: ${r.method()} ${r.url()} ${reason}`)
    })
  })

  afterAll(async () => {
    await context?.close()
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true })
    expect(await cleanup(), "documents created through the UI could not be deleted").toEqual([])
  })

  it.runIf(authOn)("sends an unauthenticated visitor to the sign-in page [auth on: runs against an Entra-configured deployment]", async () => {
    await page.goto(`${cfg.baseUrl}/`)
    const signIn = "the backend enforces auth, so the SPA must show its sign-in page (is the UI built with VITE_ENTRA_CLIENT_ID?)"
    await expect.poll(() => page.getByRole("heading", { name: "Sign in" }).isVisible(), { message: signIn, timeout: 20_000 }).toBe(true)
    expect(await page.getByRole("button", { name: "Sign in with Microsoft" }).isVisible(), signIn).toBe(true)
    await screenshot("sign-in")
    expect(problems.filter((p) => /Content Security Policy/i.test(p))).toEqual([])
  })

  it.skipIf(authOn)("uploads through the UI, lists, opens, downloads and deletes a document", async () => {
    const name = runName("browser", "txt")
    const content = Buffer.concat([Buffer.from(`MyDocs e2e browser upload ${name}\n`), bytes(freshSeed(), 200 * 1024)])
    const sha = createHash("sha256").update(content).digest("hex")
    let id: string | undefined
    try {
      await page.goto(`${cfg.baseUrl}/`)
      await page.getByRole("heading", { name: "Documents", level: 1 }).waitFor()
      await screenshot("library")

      await page.getByLabel("Choose files").setInputFiles({ name, mimeType: "text/plain", buffer: content })
      await page.getByRole("button", { name: "Upload", exact: true }).click()
      const link = page.getByRole("link", { name, exact: true })
      await link.waitFor()
      const href = await link.getAttribute("href")
      expect(href).toMatch(/^\/documents\/[0-9a-f]{32}$/)
      id = href!.split("/").pop()!
      track(id)
      await screenshot("uploaded")

      // the record behind the UI is the file that was picked
      const rec = json(await getDocument(id))
      expect(rec).toMatchObject({ name, size: content.length, sha256: sha })

      await link.click()
      await page.waitForURL(`**/documents/${id}`)
      await expect.poll(() => page.getByRole("heading", { name, level: 1 }).isVisible()).toBe(true)

      // a deep link straight into the SPA opens the same page (nginx fallback + client routing)
      await page.goto(`${cfg.baseUrl}/documents/${id}`)
      await page.getByRole("heading", { name, level: 1 }).waitFor()
      await screenshot("document")

      const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download" }).click()])
      expect(download.suggestedFilename()).toBe(name)
      const saved = await download.path()
      const got = await readFile(saved)
      expect(got.length).toBe(content.length)
      expect(createHash("sha256").update(got).digest("hex")).toBe(sha)

      await page.getByRole("button", { name: "Delete" }).click()
      const dialog = page.getByRole("dialog", { name: "Delete this document?" })
      await dialog.waitFor()
      await screenshot("confirm-delete")
      await dialog.getByRole("button", { name: "Delete" }).click()
      await page.getByRole("heading", { name: "Documents", level: 1 }).waitFor()
      await expect.poll(() => page.getByRole("link", { name, exact: true }).count()).toBe(0)
      await screenshot("deleted")
      expect((await getDocument(id)).status).toBe(404)
      expect(await findByName(name)).toEqual([])
    } catch (e) {
      await screenshot("failure").catch(() => undefined)
      // an upload that went through but whose id was never read is still cleaned up
      if (!id) for (const d of await findByName(name).catch(() => [])) track(d.id)
      throw e
    }
    expect(problems, "the browser reported errors").toEqual([])
  })
})

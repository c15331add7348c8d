// nginx serving the SPA: index and deep links, caching of hashed assets and of index.html, gzip,
// security headers. Everything is read raw (node:http), exactly as a browser receives it.
import { gunzipSync } from "node:zlib"
import { beforeAll, describe, expect, it } from "vitest"
import { get, header, type RawResponse } from "../lib/http.js"

let index: RawResponse
let assets: string[]

beforeAll(async () => {
  index = await get("/")
  assets = [...index.body.toString("utf8").matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1])
})

const MIN_ASSET_MAX_AGE = 30 * 24 * 3600 // "long-lived": at least 30 days (a year is usual)

function cacheControl(res: RawResponse): Map<string, string> {
  const out = new Map<string, string>()
  for (const part of header(res, "cache-control").split(",")) {
    const [k, v = ""] = part.trim().split("=")
    if (k) out.set(k.toLowerCase(), v)
  }
  return out
}

function csp(res: RawResponse): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const d of header(res, "content-security-policy").split(";")) {
    const [name, ...values] = d.trim().split(/\s+/)
    if (name) out.set(name.toLowerCase(), values)
  }
  return out
}

function expectNotCached(res: RawResponse, what: string) {
  const cc = cacheControl(res)
  expect(cc.has("no-cache") || cc.has("no-store"), `${what}: Cache-Control "${header(res, "cache-control")}" must say no-cache (or no-store)`).toBe(true)
  expect(cc.has("immutable"), `${what} must never be immutable`).toBe(false)
}

describe("the SPA through nginx", () => {
  it("serves index.html at /", () => {
    expect(index.status).toBe(200)
    expect(header(index, "content-type")).toMatch(/^text\/html/)
    const html = index.body.toString("utf8")
    expect(html).toContain('<div id="app">')
    expect(assets.some((a) => a.endsWith(".js")), `index.html references no /assets/*.js: ${html.slice(0, 500)}`).toBe(true)
  })

  it.each(["/documents/abc", "/storage", "/documents"])("answers the deep link %s with index.html", async (path) => {
    const res = await get(path)
    expect(res.status).toBe(200)
    expect(header(res, "content-type")).toMatch(/^text\/html/)
    expect(res.body.equals(index.body), `${path} is not the same index.html as /`).toBe(true)
  })

  it("never lets index.html be cached without revalidation", async () => {
    expectNotCached(index, "/")
    expectNotCached(await get("/documents/abc"), "deep link /documents/abc")
    const direct = await get("/index.html")
    expect(direct.status).toBe(200)
    expectNotCached(direct, "/index.html")
  })

  it("caches hashed /assets/* for a long time, immutable", async () => {
    const hashed = assets.filter((a) => /-[A-Za-z0-9_-]{8,}\.(js|css)$/.test(a))
    expect(hashed.length, `no hashed assets in index.html: ${assets.join(", ")}`).toBeGreaterThan(0)
    for (const a of hashed) {
      const res = await get(a)
      expect(res.status, a).toBe(200)
      expect(header(res, "content-type"), a).toMatch(a.endsWith(".css") ? /^text\/css/ : /javascript/)
      const cc = cacheControl(res)
      expect(cc.has("immutable"), `${a}: Cache-Control "${header(res, "cache-control")}" lacks immutable`).toBe(true)
      expect(Number(cc.get("max-age") ?? 0), `${a}: max-age too short`).toBeGreaterThanOrEqual(MIN_ASSET_MAX_AGE)
      expect(header(res, "x-content-type-options"), `${a}: X-Content-Type-Options`).toBe("nosniff")
    }
  })

  it("answers a missing hashed asset with 404, never index.html (which would then be cached immutable)", async () => {
    const res = await get("/assets/index-e2eMissing0.js")
    expect(res.status).toBe(404)
    expect(res.body.toString("utf8")).not.toContain('<div id="app">')
  })

  it("gzips text assets (and the bytes unzip to the original)", async () => {
    const text = [...new Set([assets.find((a) => a.endsWith(".js")), assets.find((a) => a.endsWith(".css"))])].filter(Boolean) as string[]
    expect(text.length).toBeGreaterThan(0)
    for (const a of text) {
      const plain = await get(a, { headers: { "accept-encoding": "identity" } })
      const zipped = await get(a, { headers: { "accept-encoding": "gzip" } })
      expect(header(plain, "content-encoding"), `${a} without Accept-Encoding`).toBe("")
      expect(header(zipped, "content-encoding"), `${a}: no gzip`).toBe("gzip")
      expect(zipped.body.length).toBeLessThan(plain.body.length)
      expect(gunzipSync(zipped.body).equals(plain.body), `${a}: gunzipped body differs`).toBe(true)
    }
  })
})

describe("security headers", () => {
  const SAFE_REFERRER = ["no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"]

  it.each(["/", "/documents/abc"])("are sent with %s", async (path) => {
    const res = path === "/" ? index : await get(path)
    expect(header(res, "x-content-type-options")).toBe("nosniff")
    const referrer = header(res, "referrer-policy").split(",").map((s) => s.trim()).filter(Boolean).at(-1)
    expect(SAFE_REFERRER, `Referrer-Policy "${header(res, "referrer-policy")}"`).toContain(referrer)
    const policy = csp(res)
    expect(policy.size, "Content-Security-Policy missing").toBeGreaterThan(0)
    const ancestors = policy.get("frame-ancestors")
    expect(ancestors, `CSP "${header(res, "content-security-policy")}" has no frame-ancestors`).toBeDefined()
    expect(ancestors!.every((s) => s === "'none'" || s === "'self'"), `frame-ancestors ${ancestors}`).toBe(true)
    const scripts = policy.get("script-src") ?? policy.get("default-src")
    expect(scripts, "CSP restricts no scripts (neither script-src nor default-src)").toBeDefined()
    expect(scripts).not.toContain("'unsafe-inline'")
    expect(scripts).not.toContain("'unsafe-eval'")
    expect(scripts).not.toContain("*")
  })

  it("let the SPA reach the Entra authority (MSAL redirect flow token calls)", () => {
    const policy = csp(index)
    const connect = policy.get("connect-src") ?? policy.get("default-src")
    if (!connect || connect.includes("*") || connect.includes("https:")) return // not restricted
    expect(connect, "connect-src must allow https://login.microsoftonline.com").toContain("https://login.microsoftonline.com")
  })
})

// The suite's own helpers, without any server: configuration parsing and the content generator the
// byte-identity checks rely on.
import { createHash } from "node:crypto"
import { describe, expect, it } from "vitest"
import { MiB, bytes, chunks, sha256Of } from "../lib/content.js"
import { ConfigError, loadConfig } from "../lib/env.js"

describe("configuration", () => {
  it("requires BASE_URL and normalises it", () => {
    expect(() => loadConfig({})).toThrow(/BASE_URL is required/)
    expect(() => loadConfig({ BASE_URL: "  " })).toThrow(ConfigError)
    expect(loadConfig({ BASE_URL: "http://localhost:8080/" }).baseUrl).toBe("http://localhost:8080")
    expect(loadConfig({ BASE_URL: "https://x.example/mydocs//" }).baseUrl).toBe("https://x.example/mydocs")
  })

  it("refuses bad values with one line per problem", () => {
    const bad = () => loadConfig({ BASE_URL: "ftp://x", E2E_EXPECT_AUTH: "yes", E2E_SKIP_BROWSER: "true", E2E_AUTH_TOKEN: "a b" })
    expect(bad).toThrow(ConfigError)
    try {
      bad()
    } catch (e) {
      const lines = (e as Error).message.split("\n")
      expect(lines).toHaveLength(4)
      expect(lines.join("\n")).toMatch(/BASE_URL must be http/)
      expect(lines.join("\n")).toMatch(/E2E_EXPECT_AUTH must be 1 or 0/)
      expect(lines.join("\n")).toMatch(/E2E_SKIP_BROWSER must be 1 or 0/)
      expect(lines.join("\n")).toMatch(/E2E_AUTH_TOKEN/)
    }
    expect(() => loadConfig({ BASE_URL: "http://user:pw@host" })).toThrow(/credentials/)
    expect(() => loadConfig({ BASE_URL: "not a url" })).toThrow(/not a URL/)
  })

  it("treats empty values as unset and applies the defaults", () => {
    const c = loadConfig({ BASE_URL: "http://h", E2E_AUTH_TOKEN: "", E2E_EXPECT_AUTH: "", CHROMIUM_PATH: "" })
    expect(c).toMatchObject({ authToken: undefined, expectAuth: false, skipBrowser: false, chromiumPath: "/usr/bin/chromium" })
    expect(c.artifactsDir).toMatch(/test\/e2e\/artifacts$/)
    expect(loadConfig({ BASE_URL: "http://h", E2E_EXPECT_AUTH: "1", E2E_AUTH_TOKEN: "t.k.n" })).toMatchObject({ expectAuth: true, authToken: "t.k.n" })
  })
})

describe("generated content", () => {
  it("is deterministic per seed, different across seeds, exactly the size asked", () => {
    expect(bytes("s1", 1000).equals(bytes("s1", 1000))).toBe(true)
    expect(bytes("s1", 1000).equals(bytes("s2", 1000))).toBe(false)
    for (const n of [0, 1, 3, 4, 5, MiB - 1, MiB, MiB + 1]) expect(bytes("s", n).length).toBe(n)
  })

  it("is a prefix-stable stream (a Range of a large file can be computed from a shorter one)", () => {
    const long = bytes("p", 2 * MiB + 7)
    expect(bytes("p", MiB + 10).equals(long.subarray(0, MiB + 10))).toBe(true)
    expect(bytes("p", 5).equals(long.subarray(0, 5))).toBe(true)
  })

  it("hashes the same streamed as whole, in chunks of at most 1 MiB", () => {
    const size = 3 * MiB + 123
    const h = createHash("sha256")
    for (const c of chunks("h", size)) {
      expect(c.length).toBeLessThanOrEqual(MiB)
      h.update(c)
    }
    expect(sha256Of("h", size)).toBe(h.digest("hex"))
    expect(sha256Of("h", size)).toBe(createHash("sha256").update(bytes("h", size)).digest("hex"))
    expect(() => bytes("h", 17 * MiB)).toThrow(RangeError)
    expect(() => [...chunks("h", -1)]).toThrow(RangeError)
  })

  it("does not look like a constant or a repeating pattern", () => {
    const b = bytes("r", 64 * 1024)
    const counts = new Array(256).fill(0)
    for (const x of b) counts[x]++
    expect(Math.max(...counts)).toBeLessThan(400) // ~256 expected per value
    expect(b.subarray(0, 4096).equals(b.subarray(4096, 8192))).toBe(false)
  })
})

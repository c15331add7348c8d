import { execFileSync } from "node:child_process"
import { existsSync } from "node:fs"
import { resolve } from "node:path"
import { describe, expect, it } from "vitest"
import {
  backendEnvEntries,
  parseConfigKeys,
  parseDotenv,
  renderEnvFile,
  secretKeyNames,
  selectSecretEntries,
  type ConfigKey,
} from "../../../.dagger/src/settings.js"

const ROOT = resolve(__dirname, "../../..")
const MYDOCS = resolve(ROOT, ".venv/bin/mydocs")

const KEYS: ConfigKey[] = [
  { name: "DATA_FOLDER", required: false, secret: false, default: "/app/data", description: "" },
  { name: "MONGO_URL", required: true, secret: true, default: null, description: "" },
  { name: "MONGO_PASSWORD", required: false, secret: true, default: null, description: "" },
  { name: "MONGO_DB_NAME", required: false, secret: true, default: "mydocs", description: "" },
  { name: "MYDOCS_MAX_UPLOAD_BYTES", required: false, secret: false, default: 104857600, description: "" },
]

describe("parseConfigKeys against the real backend (`.venv/bin/mydocs config keys --json`)", () => {
  it("reads the backend's list, with the keys spec 8.2 puts in the Secret marked secret", () => {
    expect(existsSync(MYDOCS), "run scripts/setup-python.sh first: the backend's CLI is the source of the key list").toBe(true)
    const keys = parseConfigKeys(execFileSync(MYDOCS, ["config", "keys", "--json"], { encoding: "utf8" }))
    const secret = secretKeyNames(keys)
    for (const k of ["MONGO_URL", "MONGO_USER", "MONGO_PASSWORD", "MONGO_DB_NAME", "AZURE_DI_ENDPOINT", "AZURE_DI_API_KEY",
      "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_API_BASE", "ENTRA_TENANT_ID", "ENTRA_CLIENT_ID", "MYDOCS_STORAGE_BACKEND",
      "AZURE_STORAGE_ACCOUNT_NAME", "AZURE_STORAGE_CONTAINER_NAME"]) {
      expect(secret).toContain(k)
    }
    expect(secret).not.toContain("DATA_FOLDER")
    expect(keys.find((k) => k.name === "MONGO_URL")?.required).toBe(true)
  })
})

describe("parseConfigKeys", () => {
  it("parses the contract's shape", () => {
    const keys = parseConfigKeys(JSON.stringify({ variables: KEYS }))
    expect(keys).toEqual(KEYS)
    expect(secretKeyNames(keys)).toEqual(["MONGO_URL", "MONGO_PASSWORD", "MONGO_DB_NAME"])
  })
  it("refuses malformed output with a clear message", () => {
    expect(() => parseConfigKeys("not json")).toThrow(/not JSON/)
    expect(() => parseConfigKeys("[]")).toThrow(/variables/)
    expect(() => parseConfigKeys('{"variables": []}')).toThrow(/empty/)
    expect(() => parseConfigKeys('{"variables": [{"name": "1X", "required": true, "secret": true}]}')).toThrow(/name/)
    expect(() => parseConfigKeys('{"variables": [{"name": "X", "required": "yes", "secret": true}]}')).toThrow(/booleans/)
    expect(() => parseConfigKeys('{"variables": [{"name": "X", "required": true, "secret": true, "default": {}}]}')).toThrow(/scalar/)
    const dup = { name: "X", required: true, secret: true, default: null }
    expect(() => parseConfigKeys(JSON.stringify({ variables: [dup, dup] }))).toThrow(/twice/)
  })
})

describe("parseDotenv", () => {
  it("reads comments, export, quotes and inline comments", () => {
    const env = parseDotenv(
      [
        "\uFEFF# comment",
        "",
        "MONGO_URL=mongodb://db:27017/x?a=b  # where",
        "export MONGO_DB_NAME = mydocs",
        `MONGO_PASSWORD="p#ss \\"word\\"\\nline2"`,
        "SINGLE='$literal # not a comment'",
        "EMPTY=",
        "HASH=abc#def",
      ].join("\r\n"),
    )
    expect([...env.entries()]).toEqual([
      ["MONGO_URL", "mongodb://db:27017/x?a=b"],
      ["MONGO_DB_NAME", "mydocs"],
      ["MONGO_PASSWORD", 'p#ss "word"\nline2'],
      ["SINGLE", "$literal # not a comment"],
      ["EMPTY", ""],
      ["HASH", "abc#def"],
    ])
  })
  it("refuses bad lines by line number, never echoing a value", () => {
    expect(() => parseDotenv("A=1\njust-a-value-hunter2")).toThrow(/line 2: expected KEY=value/)
    expect(() => parseDotenv("1A=x")).toThrow(/line 1: "1A"/)
    expect(() => parseDotenv("A=1\nA=2")).toThrow(/line 2: A is set twice/)
    expect(() => parseDotenv('A="hunter2')).toThrow(/unterminated double/)
    expect(() => parseDotenv("A='hunter2")).toThrow(/unterminated single/)
    try {
      parseDotenv('A="hunter2')
    } catch (e) {
      expect((e as Error).message).not.toContain("hunter2")
    }
  })
})

describe("selectSecretEntries", () => {
  it("keeps secret keys with values, in the backend's order; drops empties; reports missing required keys", () => {
    const sel = selectSecretEntries(parseDotenv("MONGO_DB_NAME=docs\nMONGO_URL=mongodb://x\nMONGO_PASSWORD="), KEYS)
    expect(sel.entries).toEqual([
      ["MONGO_URL", "mongodb://x"],
      ["MONGO_DB_NAME", "docs"],
    ])
    expect(sel.skippedEmpty).toEqual(["MONGO_PASSWORD"])
    expect(sel.missingRequired).toEqual([])
    expect(selectSecretEntries(parseDotenv("MONGO_URL="), KEYS).missingRequired).toEqual(["MONGO_URL"])
    expect(selectSecretEntries(new Map(), KEYS).missingRequired).toEqual(["MONGO_URL"])
  })
  it("refuses unknown keys (typos) and plain settings", () => {
    expect(() => selectSecretEntries(parseDotenv("MONGO_URI=x\nZZ=1"), KEYS)).toThrow(/does not read: MONGO_URI, ZZ/)
    expect(() => selectSecretEntries(parseDotenv("DATA_FOLDER=/x"), KEYS)).toThrow(/plain settings .*DATA_FOLDER/)
  })
})

describe("renderEnvFile", () => {
  it("writes KEY=value lines, values literal", () => {
    expect(renderEnvFile([["A", "x=y #z"], ["B", "'q'"]])).toBe("A=x=y #z\nB='q'\n")
  })
  it("refuses a value with a line break by key, and bad names", () => {
    expect(() => renderEnvFile([["PEM", "a\nhunter2"]])).toThrow(/^PEM: a value with a line break/)
    expect(() => renderEnvFile([["PEM", "a\nhunter2"]])).not.toThrow(/hunter2/)
    expect(() => renderEnvFile([["A-B", "x"]])).toThrow(/not a valid/)
  })
  it("round-trips through kubectl create secret --from-env-file (real kubectl, client side)", async () => {
    const { mkdtempSync, writeFileSync } = await import("node:fs")
    const { tmpdir } = await import("node:os")
    const dir = mkdtempSync(resolve(tmpdir(), "mydocs-env-"))
    const file = resolve(dir, "mydocs.env")
    writeFileSync(file, renderEnvFile([["MONGO_URL", "mongodb://u:p@db/x?a=b"], ["MONGO_PASSWORD", "s3cr#t 'q' \"d\""]]), { mode: 0o600 })
    const out = execFileSync("kubectl", ["create", "secret", "generic", "mydocs-secrets", "-n", "mydocs",
      `--from-env-file=${file}`, "--dry-run=client", "-o", "json"], { encoding: "utf8" })
    const data = JSON.parse(out).data as Record<string, string>
    expect(Buffer.from(data.MONGO_URL!, "base64").toString()).toBe("mongodb://u:p@db/x?a=b")
    expect(Buffer.from(data.MONGO_PASSWORD!, "base64").toString()).toBe("s3cr#t 'q' \"d\"")
  })
})

describe("backendEnvEntries (composeUp)", () => {
  it("keeps the backend's variables with values and lists the rest as ignored", () => {
    const r = backendEnvEntries(parseDotenv("UI_PORT=8080\nMONGO_URL=mongodb://m\nMONGO_PASSWORD=\nDATA_FOLDER=/d"), KEYS)
    expect(r.entries).toEqual([["MONGO_URL", "mongodb://m"], ["DATA_FOLDER", "/d"]])
    expect(r.ignored).toEqual(["UI_PORT"])
  })
})

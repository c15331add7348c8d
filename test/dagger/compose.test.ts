// composeUp on the engine: the whole stack as a Dagger service, reached from this machine through a host
// tunnel, and the e2e suite's HTTP checks (test/e2e: SPA, deep links, /health, uploads and downloads
// byte-identical, 413) run against it exactly as against Compose.
import { dag, type Service } from "@dagger.io/dagger"
import { spawnSync } from "node:child_process"
import { mkdtempSync } from "node:fs"
import net from "node:net"
import os from "node:os"
import path from "node:path"
import { afterAll, describe, expect, it } from "vitest"

import { UI_DAGGER_PORT } from "../../.dagger/src/containers.js"
import { moduleSource, mydocs, REPO, useEngine } from "./lib/engine.js"

useEngine()

const SECRET_CANARY = `openai-key-${process.pid}-${Date.now()}`

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port
      srv.close(() => resolve(port))
    })
    srv.on("error", reject)
  })
}

let tunnel: Service | undefined
afterAll(async () => { await tunnel?.stop() })

describe("composeUp", () => {
  it("sets only the backend's secret keys as secrets: plain settings stay readable in logs", async () => {
    const env = dag.setSecret("compose-test-env", [
      "MYDOCS_LOG_LEVEL=info",
      "MYDOCS_MAX_UPLOAD_BYTES=104857600",
      `AZURE_OPENAI_API_KEY=${SECRET_CANARY}`,
      "UI_PORT=8088", // Compose's own variable: not the backend's, so not set at all
      "",
    ].join("\n"))
    const backend = await (await mydocs()).composeBackend(env)
    const out = await backend.withExec(["sh", "-c", 'echo "level=$MYDOCS_LOG_LEVEL max=$MYDOCS_MAX_UPLOAD_BYTES key=$AZURE_OPENAI_API_KEY ui=${UI_PORT:-unset}"']).stdout()
    expect(out).toContain("level=info max=104857600")
    expect(out).toContain("ui=unset")
    expect(out).not.toContain(SECRET_CANARY) // scrubbed: it went in as a secret
    const plain = new Map(await Promise.all((await backend.envVariables()).map(async (v) => [await v.name(), await v.value()] as const)))
    expect(plain.get("MYDOCS_LOG_LEVEL")).toBe("info")
    expect(plain.has("AZURE_OPENAI_API_KEY")).toBe(false)
  })

  it("serves the stack: the e2e suite's HTTP checks pass through a host tunnel", async () => {
    const svc = await (await mydocs()).composeUp()
    const port = await freePort()
    tunnel = await dag.host().tunnel(svc, { ports: [{ frontend: port, backend: UI_DAGGER_PORT }] }).start()
    const artifacts = mkdtempSync(path.join(os.tmpdir(), "mydocs-compose-e2e-"))
    const run = spawnSync("npx", ["vitest", "run", "tests/site.test.ts", "tests/api.test.ts"], {
      cwd: path.join(REPO, "test/e2e"),
      env: { ...process.env, BASE_URL: `http://127.0.0.1:${port}`, E2E_SKIP_BROWSER: "1", E2E_ARTIFACTS: artifacts, NO_COLOR: "1", FORCE_COLOR: "0" },
      encoding: "utf8",
      timeout: 15 * 60_000,
    })
    const output = `${run.stdout}\n${run.stderr}`.replace(/\x1b\[[0-9;]*m/g, "")
    expect(run.status, output.slice(-6000)).toBe(0)
    expect(output).toMatch(/Tests\s+\d+ passed/)
    expect(output).toMatch(/uploads exactly 100 MiB and downloads it byte-identical/)
    expect(output).toMatch(/413 answered by the backend|refuses 100 MiB \+ 1 byte with 413/)
    expect(output).not.toMatch(/\d+ failed/)
  })
})

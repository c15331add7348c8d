// buildBackend and buildUi on the engine: Directory.dockerBuild of our Dockerfiles with the module's
// source filter, then the image itself is run and inspected.
import { dag, ReturnType, type Container } from "@dagger.io/dagger"
import { execFileSync } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { describe, expect, it } from "vitest"

import { uiForDagger } from "../../.dagger/src/containers.js"
import { Mydocs } from "../../.dagger/src/index.js"
import { moduleSource, mydocs, useEngine } from "./lib/engine.js"

useEngine()

const CA_BUNDLE = process.env.MYDOCS_CA_BUNDLE ?? "/etc/ssl/certs/ca-certificates.crt"
const CANARY = `mydocs-canary-${process.pid}-${Date.now()}`
const CLIENT_ID = "3f2c1b7e-9d4a-4c8e-b1f0-6a5d2e7c9b13"
const AUTHORITY = "https://login.microsoftonline.com/9b8c7d6e-5f4a-4b3c-8d2e-1f0a9b8c7d6e"

/** every file of every layer of an image, as text, via Container.asTarball (docker save format) */
async function layerText(ctr: Container): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "mydocs-image-"))
  await ctr.asTarball().export(path.join(dir, "image.tar"))
  execFileSync("tar", ["-xf", "image.tar"], { cwd: dir })
  const chunks: string[] = []
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.isFile() && p !== path.join(dir, "image.tar")) {
        // layers are tar (or gzip) blobs: list and dump their contents
        const out = execFileSync("sh", ["-c", 'tar -xOf "$1" 2>/dev/null || cat "$1"', "sh", p], { maxBuffer: 1 << 30 })
        chunks.push(out.toString("latin1"))
      }
    }
  }
  walk(dir)
  return chunks.join("\n")
}

describe("buildBackend", () => {
  it("builds with dockerBuild; mydocs --help runs; non-root; no canary of the context in any layer", async () => {
    // canaries where .dockerignore must keep them out: added after the module's own filter, so this
    // checks the Dockerfile's ignore file as dockerBuild applies it
    const src = (await moduleSource())
      .withNewFile(".env", `MONGO_PASSWORD=${CANARY}\n`)
      .withNewFile("data/managed/secret.txt", CANARY)
      .withNewFile("deploy/k8s/overlays/self-hosted/secret.yml", `password: ${CANARY}\n`)
      .withNewFile("mydocs-ui/node_modules/x/index.js", CANARY)
    // the CA bundle build secret carries a canary line too: a build secret must leave no trace either
    const ca = dag.setSecret("ca-with-canary", `${readFileSync(CA_BUNDLE, "utf8")}\n# ${CANARY}\n`)
    const image = await new Mydocs(src, ca).buildBackend()
    const help = await image.withExec(["mydocs", "--help"]).stdout()
    expect(help).toMatch(/usage: mydocs/i)
    const uid = (await image.withExec(["id", "-u"]).stdout()).trim()
    expect(uid).not.toBe("0")
    expect(await image.user()).not.toMatch(/^(|root|0)(:|$)/)
    const text = await layerText(image)
    expect(text.length).toBeGreaterThan(1_000_000) // positive control: the layers were read
    expect(text).toContain("mydocs") // positive control: our package is in them
    expect(text.includes(CANARY), "a canary file of the build context is in an image layer").toBe(false)
  })

  it("refuses an unpinned base image before building", async () => {
    await expect(new Mydocs(dag.directory()).buildBackend("python:latest")).rejects.toThrow(/pin the image/)
  })
})

describe("buildUi", () => {
  it("puts the Entra client id into the bundle; nginx -t passes", async () => {
    const ui = await (await mydocs()).buildUi("/api/v1", CLIENT_ID, AUTHORITY)
    const hits = await ui.withExec(["sh", "-c", `grep -rl ${CLIENT_ID} /usr/share/nginx/html | head -n 3`]).stdout()
    expect(hits).toMatch(/\.js/)
    // nginx resolves its upstream `backend` at start: give it one, as Compose and Kubernetes do
    const backend = dag.container().from("python:3.13-slim")
      .withExposedPort(8000)
      .asService({ args: ["python3", "-m", "http.server", "8000"] })
    // as Dagger serves it (composeUp): Dagger's executor lets no non-root process bind port 80, and
    // `nginx -t` binds the listen port, so the unchanged image fails here while Docker/Kubernetes run it
    const check = (await uiForDagger(ui)).withServiceBinding("backend", backend).withExec(["nginx", "-t"], { expect: ReturnType.Any })
    const stderr = await check.stderr()
    expect(await check.exitCode(), stderr).toBe(0)
    expect(stderr).toMatch(/test is successful/)
    expect(await ui.withExec(["id", "-u"]).stdout()).not.toBe("0\n")
  })

  it("refuses half an Entra configuration", async () => {
    await expect(new Mydocs(dag.directory()).buildUi("/api/v1", CLIENT_ID, "")).rejects.toThrow(/both|neither/i)
  })
})


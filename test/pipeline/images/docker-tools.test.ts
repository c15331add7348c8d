// scripts/install-docker-plugins.sh: the install (from its cache, into a throwaway directory) and the
// `--check` that scripts/test-e2e.sh and test/bench/images_bench.sh start with. Bad inputs are made
// real, not simulated: the plugin directories hidden in a private mount namespace (unshare -m, root),
// DOCKER_BUILDKIT=0, an engine address nothing listens on, a PATH without Go. Each must end in exactly
// one line naming what to install or change, never a stack trace.
import { spawnSync } from "node:child_process"
import { existsSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { resolve } from "node:path"
import { describe, expect, it } from "vitest"

const ROOT = resolve(__dirname, "../../..")
const SCRIPT = resolve(ROOT, "scripts/install-docker-plugins.sh")
// every directory a docker CLI searches for plugins (docker/cli's defaults for Linux)
const PLUGIN_DIRS = ["/usr/local/lib/docker/cli-plugins", "/usr/local/libexec/docker/cli-plugins",
  "/usr/lib/docker/cli-plugins", "/usr/libexec/docker/cli-plugins"].filter(existsSync)

function run(args: string[], env: Record<string, string | undefined> = {}, mounts = "") {
  const e = { ...process.env, ...env }
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete e[k]
  const cmd = mounts ? ["unshare", "-m", "bash", "-c", `${mounts} && exec bash "$0" "$@"`, SCRIPT, ...args] : ["bash", SCRIPT, ...args]
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: "utf8", env: e })
  return { status: r.status, stderr: r.stderr.trim(), stdout: r.stdout.trim() }
}
/** One line on stderr, no trace of a Go panic, a shell trace or a Python traceback. */
function oneLine(stderr: string) {
  expect(stderr.split("\n"), stderr).toHaveLength(1)
  expect(stderr).not.toMatch(/panic|goroutine|Traceback|line \d+:/)
  return stderr
}
const HINT = "run: bash scripts/install-docker-plugins.sh"

describe("install-docker-plugins.sh --check", () => {
  it("passes here: Compose v2, buildx and the engine's BuildKit answer", () => {
    const r = run(["--check"])
    expect(r.status, r.stderr).toBe(0)
    expect(oneLine(r.stderr)).toMatch(/^install-docker-plugins: ok: docker compose 2\.\d+\.\d+, docker buildx v0\.\d+\.\d+, engine BuildKit v\d/)
  })

  it("a missing Compose plugin (docker-compose 1.x present or not): one line naming what to install", () => {
    expect(process.getuid?.(), "unshare -m needs root (as .ci/run runs)").toBe(0)
    const hide = PLUGIN_DIRS.map((d) => `mount -t tmpfs none ${d}`).join(" && ")
    expect(hide).not.toBe("")
    const r = run(["--check"], {}, hide)
    expect(r.status).toBe(1)
    const v1 = spawnSync("docker-compose", ["version", "--short"], { encoding: "utf8" })
    if (v1.status === 0 && v1.stdout.startsWith("1.")) {
      expect(oneLine(r.stderr)).toContain(`docker-compose ${v1.stdout.trim()} is Compose v1, which MyDocs does not support`)
    } else {
      expect(oneLine(r.stderr)).toContain("docker compose (Compose v2) is missing")
    }
    expect(r.stderr).toContain(HINT)
  })

  it("a missing buildx plugin: one line naming what to install", () => {
    const buildx = PLUGIN_DIRS.map((d) => `${d}/docker-buildx`).filter(existsSync)
    expect(buildx).not.toEqual([])
    const r = run(["--check"], {}, buildx.map((b) => `mount --bind /dev/null ${b}`).join(" && "))
    expect(r.status).toBe(1)
    expect(oneLine(r.stderr)).toContain("docker buildx (the BuildKit client that `docker build` and Compose v2 use) is missing")
    expect(r.stderr).toContain(HINT)
  })

  it("an old Compose v2 and the classic builder forced by DOCKER_BUILDKIT=0 are refused in one line", () => {
    const old = run(["--check"], { MYDOCS_COMPOSE_MIN: "99.0.0" })
    expect(old.status).toBe(1)
    expect(oneLine(old.stderr)).toMatch(/docker compose 2\.\d+\.\d+ is too old \(MyDocs needs Compose >= 99\.0\.0\)/)
    const classic = run(["--check"], { DOCKER_BUILDKIT: "0" })
    expect(classic.status).toBe(1)
    expect(oneLine(classic.stderr)).toContain("DOCKER_BUILDKIT=0 selects the classic builder")
  })

  it("no engine at DOCKER_HOST: one line", () => {
    const r = run(["--check"], { DOCKER_HOST: `unix://${mkdtempSync(resolve(tmpdir(), "nodocker-"))}/docker.sock` })
    expect(r.status).toBe(1)
    expect(oneLine(r.stderr)).toContain("no Docker engine answers")
  })
})

describe("install-docker-plugins.sh (install)", () => {
  it("installs both plugins from its version-stamped cache into a given directory, then keeps them", () => {
    const dest = mkdtempSync(resolve(tmpdir(), "plugins-"))
    const first = run([], { DOCKER_CLI_PLUGINS_DIR: dest })
    expect(first.status, first.stderr).toBe(0)
    expect(first.stderr).toMatch(/installed docker compose v2\.40\.3 into/)
    expect(first.stderr).not.toMatch(/building/) // .ci/run built them once; the cache answers
    const v = spawnSync(resolve(dest, "docker-compose"), ["version", "--short"], { encoding: "utf8" })
    expect(v.stdout.trim()).toBe("2.40.3")
    const b = spawnSync(resolve(dest, "docker-buildx"), ["version"], { encoding: "utf8" })
    expect(b.stdout).toMatch(/^github\.com\/docker\/buildx v0\.29\.1/)
    const again = run([], { DOCKER_CLI_PLUGINS_DIR: dest })
    expect(again.stderr).toContain("docker compose v2.40.3 already in")
    expect(again.stderr).toContain("docker buildx v0.29.1 already in")
  })

  it("with nothing installed or cached and no Go on PATH: one line naming Go", () => {
    const dest = mkdtempSync(resolve(tmpdir(), "plugins-"))
    const cache = mkdtempSync(resolve(tmpdir(), "plugins-cache-"))
    const r = run([], { DOCKER_CLI_PLUGINS_DIR: dest, MYDOCS_PLUGINS_CACHE: cache, PATH: "/usr/sbin:/usr/bin:/sbin:/bin" })
    expect(r.status).toBe(1)
    expect(oneLine(r.stderr)).toContain("'go' is not on PATH (Go >= 1.24 builds docker compose v2.40.3 and buildx v0.29.1)")
  })

  it("refuses an unknown argument", () => {
    const r = run(["--chek"])
    expect(r.status).toBe(2)
    expect(oneLine(r.stderr)).toContain("unknown argument: --chek")
  })
})

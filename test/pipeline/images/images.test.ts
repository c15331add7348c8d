// Static checks of the images' definitions, the nginx configuration, docker-compose.yml and
// .env.example (what needs a Docker engine is in scripts/test-e2e.sh). Each policy is a function of the
// text, shown failing on a deliberately broken copy. The backend's variables come from
// `.venv/bin/mydocs config keys --json`, never from a copy.
import { spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { resolve } from "node:path"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { readmeCommands } from "./readme-commands.js"

const ROOT = resolve(__dirname, "../../..")
const read = (p: string) => readFileSync(resolve(ROOT, p), "utf8")
const COMPOSE_TEXT = read("docker-compose.yml")
const ENV_EXAMPLE = read(".env.example")
const NGINX = read("deploy/nginx.conf")
const NGINX_MAIN = read("deploy/nginx-main.conf")
const DF_BACKEND = read("Dockerfile.backend")
const DF_UI = read("Dockerfile.ui")

type Service = {
  image?: string; build?: { secrets?: (string | { source: string })[] }; profiles?: string[]; ports?: string[]; env_file?: string
  environment?: Record<string, string>; volumes?: string[]; restart?: string
  depends_on?: Record<string, { condition: string }>; user?: string
  healthcheck?: { test?: string[]; disable?: boolean }
}
type Compose = { services: Record<string, Service>; secrets?: Record<string, { file?: string }> }

// ---------------------------------------------------------------- policies (pure functions)

/** NAME=value lines of an env file. */
export function envNames(text: string): string[] {
  return text.split("\n").map((l) => /^([A-Z][A-Z0-9_]*)=/.exec(l)?.[1]).filter((n): n is string => !!n)
}

/** Names used as ${NAME...} in a compose file. */
export function composeVars(text: string): string[] {
  return [...new Set([...text.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]!))]
}

/** Problems of docker-compose.yml against spec §4 and issue 3. */
export function composeProblems(c: Compose): string[] {
  const p: string[] = []
  const s = c.services ?? {}
  for (const name of ["backend", "ui", "db", "azurite"]) if (!s[name]) p.push(`service ${name} missing`)
  const b = s.backend, u = s.ui
  if (b) {
    if (b.profiles) p.push("backend must run without a profile")
    if (!b.ports?.some((x) => x.endsWith(":8000"))) p.push("backend does not publish container port 8000")
    if (!b.env_file) p.push("backend has no env_file")
    if (b.environment?.DATA_FOLDER !== "/app/data") p.push("backend DATA_FOLDER is not /app/data")
    if (b.environment?.CONFIG_ROOT !== "/app/config") p.push("backend CONFIG_ROOT is not /app/config")
    if (!b.volumes?.some((v) => /:\/app\/data$/.test(v))) p.push("backend does not mount /app/data")
    if (!b.volumes?.some((v) => /:\/app\/config(:ro)?$/.test(v))) p.push("backend does not mount /app/config")
    if (!b.healthcheck?.test) p.push("backend has no healthcheck")
  }
  if (u) {
    if (u.profiles) p.push("ui must run without a profile")
    if (!u.ports?.some((x) => x.endsWith(":80"))) p.push("ui does not publish container port 80")
    if (u.depends_on?.backend?.condition !== "service_healthy") p.push("ui does not wait for a healthy backend")
    if (!u.healthcheck?.test) p.push("ui has no healthcheck")
  }
  for (const name of ["db", "azurite"]) if (s[name] && !s[name]!.profiles?.includes("local")) p.push(`${name} is not in the local profile`)
  // the Dockerfiles' optional CA build secret, from MYDOCS_CA_BUNDLE (default: an empty file)
  for (const name of ["backend", "ui"]) {
    const secrets = (s[name]?.build?.secrets ?? []).map((x) => (typeof x === "string" ? x : x.source))
    if (s[name]?.build && !secrets.includes("ca_bundle")) p.push(`${name} build does not get the ca_bundle secret`)
  }
  if (c.secrets?.ca_bundle?.file !== "${MYDOCS_CA_BUNDLE:-/dev/null}") p.push("secret ca_bundle is not file: ${MYDOCS_CA_BUNDLE:-/dev/null}")
  if (s.db && !/^\$\{MONGO_IMAGE:-mongo[:@]/.test(s.db.image ?? "")) p.push("db image is not ${MONGO_IMAGE:-mongo...}")
  if (s.azurite && !/^\$\{AZURITE_IMAGE:-/.test(s.azurite.image ?? "")) p.push("azurite image is not ${AZURITE_IMAGE:-...}")
  for (const [name, svc] of Object.entries(s)) {
    const oneShot = svc.restart === "no" && name === "data-init"
    if (!oneShot && !["always", "unless-stopped", "on-failure"].includes(svc.restart ?? "")) p.push(`${name} has no restart policy`)
    const test = (svc.healthcheck?.test ?? []).join(" ")
    if (/\bcurl\b/.test(test)) p.push(`${name}: healthcheck uses curl (not in slim images)`)
    if (svc.user && /^0(:|$)/.test(svc.user) && !oneShot) p.push(`${name} runs as root`)
  }
  return p
}

/** Problems of deploy/nginx.conf against spec §2.3 and issue 3. */
export function nginxProblems(conf: string): string[] {
  const p: string[] = []
  const loc = (path: string) => new RegExp(`location ${path.replace(/[/]/g, "\\/")} \\{([^}]*)\\}`).exec(conf)?.[1] ?? null
  const api = loc("/api/"), health = loc("/health"), root = loc("/")
  if (!/^\s*listen 80;/m.test(conf)) p.push("does not listen on 80")
  if (!root || !/try_files \$uri \$uri\/ \/index\.html;/.test(root)) p.push("no SPA fallback in location /")
  if (!api) p.push("no location /api/")
  if (!health) p.push("no location /health")
  const upstream = /upstream (\w+) \{[^}]*server backend:8000[;\s]/.exec(conf)?.[1]
  for (const [name, body] of [["/api/", api], ["/health", health]] as const) {
    if (!body) continue
    const target = /proxy_pass http:\/\/([\w.:-]+);/.exec(body)?.[1]
    if (target !== "backend:8000" && target !== upstream) p.push(`${name} does not proxy to backend:8000`)
    for (const h of ["Host", "X-Real-IP", "X-Forwarded-For", "X-Forwarded-Proto"])
      if (!new RegExp(`proxy_set_header ${h} `).test(body)) p.push(`${name} does not set ${h}`)
  }
  if (api) {
    const size = /client_max_body_size (\d+)([mMkK]?);/.exec(api)
    const bytes = size ? Number(size[1]) * ({ m: 2 ** 20, k: 2 ** 10 }[size[2]!.toLowerCase()] ?? 1) : 0
    if (bytes <= 100 * 2 ** 20) p.push("client_max_body_size must exceed 100 MiB (a 100 MiB file plus its multipart framing)")
    if (!/proxy_request_buffering off;/.test(api)) p.push("/api/ buffers request bodies")
    const read = /proxy_read_timeout (\d+)s;/.exec(api)
    if (!read || Number(read[1]) < 300) p.push("/api/ proxy_read_timeout shorter than 300 s")
  }
  if (!/gzip on;/.test(conf) || !/gzip_types[^;]*application\/javascript[^;]*;/.test(conf) || !/gzip_types[^;]*text\/css/.test(conf)) p.push("gzip of js/css is off")
  if (!/~\^\/assets\/\s+"[^"]*max-age=31536000[^"]*immutable/.test(conf)) p.push("hashed /assets/* not cached immutable")
  if (!/default\s+"no-cache"/.test(conf)) p.push("index.html not no-cache")
  const headers = [...conf.matchAll(/^\s*add_header ([\w-]+) "([^"]*)"/gm)].map((m) => [m[1]!, m[2]!] as const)
  const h = new Map(headers)
  const csp = h.get("Content-Security-Policy") ?? ""
  if (!/frame-ancestors '(none|self)'/.test(csp)) p.push("CSP lacks frame-ancestors")
  if (!/connect-src[^;]*https:\/\/login\.microsoftonline\.com/.test(csp)) p.push("CSP connect-src does not allow the Entra authority")
  if (/script-src[^;]*'unsafe-(inline|eval)'/.test(csp)) p.push("CSP allows unsafe scripts")
  if (h.get("X-Content-Type-Options") !== "nosniff") p.push("no X-Content-Type-Options nosniff")
  if (!h.get("Referrer-Policy")) p.push("no Referrer-Policy")
  // add_header inside a location drops every server-level add_header for it
  for (const m of conf.matchAll(/location [^{]+\{([^}]*)\}/g)) if (/add_header/.test(m[1]!)) p.push("add_header inside a location")
  return p
}

/** Problems of a Dockerfile's final stage. */
export function dockerfileProblems(text: string, want: { arg: string; def: string; port: number; user: RegExp }): string[] {
  const p: string[] = []
  if (/^#\s*syntax=/m.test(text)) p.push("a # syntax= line pulls a frontend image (breaks air-gapped builds)")
  if (!new RegExp(`^ARG ${want.arg}=${want.def.replace(/[.]/g, "\\.")}$`, "m").test(text)) p.push(`ARG ${want.arg} does not default to ${want.def}`)
  const stages = text.split(/^FROM /m)
  const last = stages[stages.length - 1] ?? ""
  const users = [...last.matchAll(/^USER (\S+)/gm)].map((m) => m[1]!)
  if (users.length === 0 || !want.user.test(users[users.length - 1]!)) p.push("final stage does not run as the non-root user")
  if (!new RegExp(`^EXPOSE ${want.port}$`, "m").test(last)) p.push(`final stage does not EXPOSE ${want.port}`)
  if (!/^HEALTHCHECK /m.test(last)) p.push("no HEALTHCHECK")
  if (/HEALTHCHECK[^\n]*curl/.test(last)) p.push("HEALTHCHECK uses curl")
  if (/^COPY \. /m.test(text)) p.push("COPY . copies the whole context")
  // BuildKit where it pays, and still buildable by every BuildKit runner (docker build, Compose v2,
  // Dagger's dockerBuild) with or without the CA secret
  const runs = text.split(/^(?=RUN )/m).filter((r) => r.startsWith("RUN ")).map((r) => r.split(/\n(?!\s)/)[0]!)
  for (const run of runs) {
    // (an install from a local wheel with --no-index reaches no registry)
    const installs = /\b(pip install|npm ci|npm install)\b/.test(run) && !/pip install [^\n]*--no-index/.test(run)
    const mounts = [...run.matchAll(/--mount=(\S+)/g)].map((m) => m[1]!)
    for (const m of mounts.filter((x) => x.startsWith("type=secret"))) {
      if (!/(^|,)id=ca_bundle(,|$)/.test(m)) p.push(`a secret other than ca_bundle: ${m}`)
      if (!/(^|,)required=false(,|$)/.test(m)) p.push(`secret mount without required=false (builds without the secret must work): ${m}`)
    }
    if (!installs) continue
    const what = /pip install|npm ci|npm install/.exec(run)![0]
    if (!mounts.some((m) => m.startsWith("type=cache"))) p.push(`${what} without a cache mount`)
    if (!mounts.some((m) => m.startsWith("type=secret"))) p.push(`${what} without the optional ca_bundle secret`)
    if (/--no-cache-dir/.test(run)) p.push(`${what} with --no-cache-dir beside a cache mount`)
  }
  // the CA reaches the build only as the secret: never as a build arg, an ENV or a copied file
  if (/^(ARG|ENV) [^\n]*(CERT|CA_BUNDLE)/m.test(text)) p.push("a CA set by ARG/ENV (it would stay in the image config)")
  if (/^(COPY|ADD) [^\n]*(\.crt|\.pem|ca-certificates)/m.test(text)) p.push("a CA copied into a layer")
  return p
}

/** Whether the UI image build type-checks (vue-tsc, or `npm run build`, which runs it). */
export function uiTypeChecksInBuild(text: string): boolean {
  const code = text.split("\n").filter((l) => !/^\s*#/.test(l)).join("\n")
  return /vue-tsc|npm run build(?![-\w])/.test(code)
}

// ---------------------------------------------------------------- the real files

const compose = parse(COMPOSE_TEXT) as Compose

function backendKeys(): { name: string; secret: boolean }[] {
  const bin = resolve(ROOT, ".venv/bin/mydocs")
  const r = spawnSync(bin, ["config", "keys", "--json"], { encoding: "utf8" })
  if (r.status !== 0) throw new Error(`${bin} config keys --json: exit ${r.status} ${r.stderr}`)
  return (JSON.parse(r.stdout) as { variables: { name: string; secret: boolean }[] }).variables
}

describe(".env.example", () => {
  const names = envNames(ENV_EXAMPLE)

  it("documents every variable the backend reads (DATA_FOLDER / CONFIG_ROOT: set by compose)", () => {
    const keys = backendKeys().map((k) => k.name)
    expect(keys.length).toBeGreaterThan(10)
    const fromCompose = Object.keys(compose.services.backend?.environment ?? {})
    expect(keys.filter((k) => !names.includes(k) && !fromCompose.includes(k))).toEqual([])
  })

  it("documents every variable docker-compose.yml substitutes", () => {
    expect(composeVars(COMPOSE_TEXT).filter((v) => !names.includes(v))).toEqual([])
    expect(composeVars("image: ${NOT_DOCUMENTED:-x}").filter((v) => !names.includes(v))).toEqual(["NOT_DOCUMENTED"])
  })

  it("documents each variable with a comment and holds no credential but Azurite's public one", () => {
    const lines = ENV_EXAMPLE.split("\n")
    for (const [i, l] of lines.entries()) {
      if (!/^[A-Z]/.test(l)) continue
      // a comment within the block of variables above it
      const above = lines.slice(0, i).reverse()
      expect(above.find((x) => !/^[A-Z]/.test(x))?.startsWith("#"), `${l.split("=")[0]} has no comment`).toBe(true)
    }
    const secrets = backendKeys().filter((k) => k.secret).map((k) => k.name)
    for (const l of lines) {
      const [name, ...rest] = l.split("=")
      const value = rest.join("=")
      if (!name || !value || !secrets.includes(name)) continue
      if (/PASSWORD|_KEY$/.test(name)) throw new Error(`${name} has a value in .env.example`)
      if (name === "AZURE_STORAGE_CONNECTION_STRING") expect(value).toContain("AccountName=devstoreaccount1;")
    }
  })
})

describe("docker-compose.yml", () => {
  it("has the spec's services, the local profile, health checks without curl, restart policies", () => {
    expect(composeProblems(compose)).toEqual([])
  })

  it("policies fail on broken copies", () => {
    const broken = structuredClone(compose)
    broken.services.ui!.depends_on = { backend: { condition: "service_started" } }
    broken.services.backend!.healthcheck = { test: ["CMD", "curl", "-f", "http://localhost:8000/health"] }
    delete broken.services.db!.profiles
    delete broken.services.azurite!.restart
    expect(composeProblems(broken)).toEqual([
      "ui does not wait for a healthy backend", "db is not in the local profile",
      "backend: healthcheck uses curl (not in slim images)", "azurite has no restart policy",
    ])
  })

  it("probes the backend exactly as its image does", () => {
    const cmd = /^HEALTHCHECK[^\n]*\\\n\s*CMD (\[.*\])$/m.exec(DF_BACKEND)?.[1]
    expect(cmd).toBeDefined()
    expect(compose.services.backend!.healthcheck!.test).toEqual(["CMD", ...JSON.parse(cmd!)])
  })

  it("is accepted by `docker compose config` (Compose v2), with and without the local profile", () => {
    // Compose v2 is provisioned by .ci/run (scripts/install-docker-plugins.sh): missing = a failure
    const dir = mkdtempSync(resolve(tmpdir(), "compose-"))
    writeFileSync(resolve(dir, "backend.env"), "MONGO_URL=mongodb://db:27017\n")
    const env = { ...process.env, MYDOCS_ENV_FILE: resolve(dir, "backend.env"), MYDOCS_CA_BUNDLE: "" }
    const dc = (...args: string[]) => spawnSync("docker", ["compose", ...args], { encoding: "utf8", env, cwd: dir })
    for (const [extra, want] of [[[], ["backend", "data-init", "ui"]], [["--profile", "local"], ["azurite", "backend", "data-init", "db", "ui"]]] as const) {
      const r = dc("-f", resolve(ROOT, "docker-compose.yml"), ...extra, "config", "--services")
      expect(r.status, r.stderr).toBe(0)
      expect(r.stdout.split("\n").filter(Boolean).sort()).toEqual(want)
    }
    // the build secret resolves to /dev/null when MYDOCS_CA_BUNDLE is empty, to the file when set
    const json = (extraEnv: Record<string, string>) => {
      const r = spawnSync("docker", ["compose", "-f", resolve(ROOT, "docker-compose.yml"), "config", "--format", "json"],
        { encoding: "utf8", env: { ...env, ...extraEnv }, cwd: dir })
      expect(r.status, r.stderr).toBe(0)
      return JSON.parse(r.stdout) as { secrets: Record<string, { file: string }> }
    }
    expect(json({}).secrets.ca_bundle!.file).toBe("/dev/null")
    expect(json({ MYDOCS_CA_BUNDLE: "/etc/ssl/certs/ca-certificates.crt" }).secrets.ca_bundle!.file).toBe("/etc/ssl/certs/ca-certificates.crt")
    const bad = resolve(dir, "bad.yml")
    writeFileSync(bad, COMPOSE_TEXT.replace("condition: service_healthy", "condition: service_maybe"))
    expect(dc("-f", bad, "config", "-q").status).not.toBe(0)
  })
})

describe("deploy/nginx.conf", () => {
  it("has the spec's routes and everything issue 3 adds", () => {
    expect(nginxProblems(NGINX)).toEqual([])
  })

  it("policies fail on broken copies", () => {
    expect(nginxProblems(NGINX.replace("proxy_request_buffering off;", ""))).toEqual(["/api/ buffers request bodies"])
    expect(nginxProblems(NGINX.replace("client_max_body_size 101m;", "client_max_body_size 100M;")))
      .toEqual(["client_max_body_size must exceed 100 MiB (a 100 MiB file plus its multipart framing)"])
    expect(nginxProblems(NGINX.replace("frame-ancestors 'none'", "")).join()).toContain("CSP lacks frame-ancestors")
    expect(nginxProblems(NGINX.replace("try_files $uri =404;", "try_files $uri =404;\n        add_header Cache-Control \"x\";")))
      .toEqual(["add_header inside a location"])
  })

  it("passes nginx -t with the main config (host nginx, as the image build does)", () => {
    const nginx = ["/usr/sbin/nginx", "/usr/bin/nginx"].find(existsSync)
    if (!nginx) throw new Error("nginx is not installed (.ci/run installs nginx-light)")
    const dir = mkdtempSync(resolve(tmpdir(), "nginx-"))
    const port = 40000 + Math.floor(Math.random() * 20000) // nginx -t binds; port 80 may be taken here
    const check = (server: string) => {
      writeFileSync(resolve(dir, "default.conf"), server.replace("server backend:8000;", "server 127.0.0.1:8000;").replace("listen 80;", `listen 127.0.0.1:${port};`))
      writeFileSync(resolve(dir, "nginx.conf"), NGINX_MAIN.replace("/etc/nginx/conf.d/*.conf", resolve(dir, "default.conf"))
        .replace("pid /tmp/nginx.pid;", `pid ${dir}/nginx.pid;`)
        // a socket as stderr cannot be opened as /dev/stderr (ENXIO); in a container it is a pipe
        .replace("/dev/stderr", `${dir}/error.log`).replace("/dev/stdout", `${dir}/access.log`))
      return spawnSync(nginx, ["-t", "-q", "-c", resolve(dir, "nginx.conf")], { encoding: "utf8" })
    }
    const ok = check(NGINX)
    expect(ok.status, ok.stderr).toBe(0)
    expect(check(NGINX.replace("gzip_vary on;", "gzip_vary on")).status).not.toBe(0)
  })
})

describe("Dockerfiles", () => {
  it("backend: official default base, non-root, healthcheck without curl, EXPOSE 8000, the spec's CMD", () => {
    expect(dockerfileProblems(DF_BACKEND, { arg: "PYTHON_IMAGE", def: "python:3.13-slim", port: 8000, user: /^10001(:10001)?$/ })).toEqual([])
    expect(DF_BACKEND).toContain('CMD ["uvicorn", "mydocs.backend.app:create_app", "--factory", "--host", "0.0.0.0", "--port", "8000"]')
    // the dependency layer sees the lock file alone
    const deps = DF_BACKEND.indexOf("pip install --cache-dir /root/.cache/pip --require-hashes -r requirements.lock")
    expect(deps).toBeGreaterThan(0)
    expect(DF_BACKEND.lastIndexOf("COPY requirements.lock", deps)).toBeGreaterThan(0)
    expect(DF_BACKEND.slice(0, deps)).not.toMatch(/^COPY (src|\.) /m)
  })

  it("ui: official default bases, build args, non-root nginx, EXPOSE 80", () => {
    expect(dockerfileProblems(DF_UI, { arg: "NGINX_IMAGE", def: "nginx:1.27-alpine", port: 80, user: /^101(:101)?$/ })).toEqual([])
    expect(DF_UI).toMatch(/^ARG NODE_IMAGE=node:22-alpine$/m)
    expect(DF_UI).toMatch(/^ARG VITE_API_BASE_URL=\/api\/v1$/m)
    for (const a of ["VITE_ENTRA_CLIENT_ID", "VITE_ENTRA_AUTHORITY"]) expect(DF_UI).toMatch(new RegExp(`^ARG ${a}=""$`, "m"))
    expect(DF_UI).toMatch(/^ && npm ci\b/m)
    expect(DF_UI).toMatch(/nginx -t/)
    expect(uiTypeChecksInBuild(DF_UI)).toBe(false)
  })

  it("ui: the image build runs vite build only; the type-check is the SPA suite's (scripts/test-ui.sh)", () => {
    expect(read("scripts/test-ui.sh")).toMatch(/^npx --no-install vue-tsc --build$/m)
    const pkg = JSON.parse(read("mydocs-ui/package.json")) as { scripts: Record<string, string> }
    // the image runs package.json's build-only script itself (without npm's start-up)
    expect(pkg.scripts["build-only"]).toBe("vite build")
    // (Node's compile cache in a cache mount: vite's own code is not parsed and compiled again per rebuild)
    expect(DF_UI).toMatch(/^RUN --mount=type=cache,id=mydocs-node-compile,target=\/root\/\.cache\/node-compile-cache \\\n {4}NODE_COMPILE_CACHE=\/root\/\.cache\/node-compile-cache \.\/node_modules\/\.bin\/vite build && test -s dist\/index\.html$/m)
    expect(uiTypeChecksInBuild(DF_UI.replace(" ./node_modules/.bin/vite build &&", " npm run build &&"))).toBe(true)
    expect(uiTypeChecksInBuild(DF_UI.replace(" ./node_modules/.bin/vite build &&", " npx vue-tsc --build && ./node_modules/.bin/vite build &&"))).toBe(true)
  })

  it("policies fail on broken copies", () => {
    const want = { arg: "PYTHON_IMAGE", def: "python:3.13-slim", port: 8000, user: /^10001(:10001)?$/ }
    expect(dockerfileProblems(DF_BACKEND.replace("USER 10001:10001", "USER root"), want)).toEqual(["final stage does not run as the non-root user"])
    expect(dockerfileProblems("# syntax=docker/dockerfile:1\n" + DF_BACKEND, want)).toHaveLength(1)
    expect(dockerfileProblems(DF_BACKEND.replaceAll("--mount=type=secret,id=ca_bundle,required=false", "--mount=type=secret,id=ca_bundle"), want))
      .toEqual(Array(2).fill("secret mount without required=false (builds without the secret must work): type=secret,id=ca_bundle"))
    expect(dockerfileProblems(DF_BACKEND.replace("--mount=type=cache,id=mydocs-pip,target=/root/.cache/pip,sharing=locked \\\n    --mount=type=secret", "--mount=type=secret"), want))
      .toEqual(["pip install without a cache mount"])
    expect(dockerfileProblems(DF_BACKEND.replace(/RUN --mount=type=cache[^\n]*\n[^\n]*ca_bundle[^\n]*\n[^\n]*\n && pip install --cache-dir \/root\/\.cache\/pip --require-hashes/, "RUN pip install --no-cache-dir --require-hashes"), want))
      .toEqual(["pip install without a cache mount", "pip install without the optional ca_bundle secret", "pip install with --no-cache-dir beside a cache mount"])
    expect(dockerfileProblems(DF_BACKEND.replace("FROM ${PYTHON_IMAGE} AS deps", "FROM ${PYTHON_IMAGE} AS deps\nARG PIP_CERT=/ca.pem"), want))
      .toEqual(["a CA set by ARG/ENV (it would stay in the image config)"])
    expect(dockerfileProblems(DF_BACKEND.replace("COPY requirements.lock ./", "COPY requirements.lock ./\nCOPY proxy-ca.pem /etc/ssl/certs/"), want))
      .toEqual(["a CA copied into a layer"])
    expect(dockerfileProblems(DF_BACKEND.replace("ARG PYTHON_IMAGE=python:3.13-slim", "ARG PYTHON_IMAGE=mydocs-local/python:3.13-trixie"), want)).toHaveLength(1)
  })
})

describe("the README's Docker commands (scripts/test-e2e.sh runs each as written)", () => {
  const docs = [read("README.md"), read("docs/images-and-compose.md")]

  it("are all of a kind the e2e run performs, one command per kind", () => {
    const { commands, problems } = readmeCommands(docs)
    expect(problems).toEqual([])
    expect([...commands.keys()].sort()).toEqual(["build-backend", "build-ui", "down", "env-copy", "logs", "up"])
    expect(commands.get("up")).toBe("docker compose --profile local up -d --build")
    expect(commands.get("build-ui")).toContain("--build-arg VITE_ENTRA_CLIENT_ID=<client-id>")
  })

  it("an unknown, a Compose v1 or a second different command of one kind is refused", () => {
    const extra = (block: string) => readmeCommands([...docs, "```bash\n" + block + "\n```\n"]).problems
    expect(extra("docker-compose --profile local up -d --build")).toEqual(["no e2e step runs this command: docker-compose --profile local up -d --build"])
    expect(extra("docker compose up -d --build   # backend + ui only")).toEqual([
      'two different up commands (the e2e runs one): "docker compose --profile local up -d --build" and "docker compose up -d --build"'])
    expect(extra("docker build \\\n  -f Dockerfile.backend --pull -t x .")).toHaveLength(1)
    expect(extra("# docker compose exec backend mydocs config check")).toEqual([]) // a comment is no command
    expect(readmeCommands(["no commands"]).problems).toContain("no up command found")
  })
})

// HTTP through node:http(s) directly: raw bytes and headers as the server sent them (no transparent
// decompression), streamed request bodies with a known length, and an early answer (a 413 sent while
// the body is still going up) read instead of lost to a broken pipe.
import { createHash } from "node:crypto"
import http, { type IncomingHttpHeaders } from "node:http"
import https from "node:https"
import { Readable } from "node:stream"
import { config } from "./env.js"

export interface RawResponse {
  status: number
  headers: IncomingHttpHeaders
  /** The body as received (empty when a sink consumed it). */
  body: Buffer
  /** Bytes of body received. */
  received: number
  /** The server answered before the request body was fully sent. */
  answeredEarly: boolean
}

export interface RequestOptions {
  headers?: Record<string, string>
  /** Buffer/string, or a stream together with contentLength. */
  body?: Buffer | string | Readable
  contentLength?: number
  /** Send E2E_AUTH_TOKEN; default: for /api/ paths when a token is configured. */
  auth?: boolean
  /** Consume the response body chunk by chunk instead of collecting it. */
  sink?: (chunk: Buffer) => void
  timeoutMs?: number
}

export function url(pathname: string): URL {
  if (!pathname.startsWith("/")) throw new Error(`path must start with /: ${pathname}`)
  return new URL(config().baseUrl + pathname)
}

export function authHeaders(pathname: string, auth?: boolean): Record<string, string> {
  const token = config().authToken
  const send = auth ?? pathname.startsWith("/api/")
  return send && token ? { authorization: `Bearer ${token}` } : {}
}

export function request(method: string, pathname: string, opts: RequestOptions = {}): Promise<RawResponse> {
  const target = url(pathname)
  const lib = target.protocol === "https:" ? https : http
  const headers: Record<string, string> = { ...authHeaders(pathname, opts.auth), ...opts.headers }
  const body = opts.body
  if (typeof body === "string" || Buffer.isBuffer(body)) headers["content-length"] = String(Buffer.byteLength(body))
  else if (body) {
    if (opts.contentLength === undefined) throw new Error("a streamed body needs contentLength")
    headers["content-length"] = String(opts.contentLength)
  }

  return new Promise<RawResponse>((resolve, reject) => {
    let settled = false
    let requestDone = false
    let responded = false
    const fail = (err: Error) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      reject(err)
    }
    const req = lib.request(target, { method, headers, agent: false })
    const timer = setTimeout(
      () => req.destroy(new Error(`${method} ${pathname}: no complete answer within ${opts.timeoutMs ?? 300_000} ms`)),
      opts.timeoutMs ?? 300_000,
    )
    req.on("error", (err) => {
      // once the answer has started, a pipe broken by a server that stopped reading is expected
      if (!responded) fail(new Error(`${method} ${target.href}: ${err.message}`))
    })
    req.on("response", (res) => {
      responded = true
      const answeredEarly = !requestDone
      if (answeredEarly && body instanceof Readable) {
        body.unpipe(req)
        body.destroy()
      }
      const parts: Buffer[] = []
      let received = 0
      res.on("data", (c: Buffer) => {
        received += c.length
        if (opts.sink) opts.sink(c)
        else parts.push(c)
      })
      const finish = () => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        if (answeredEarly) req.destroy()
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts), received, answeredEarly })
      }
      res.on("end", finish)
      res.on("error", (err) => (answeredEarly ? finish() : fail(err)))
      res.on("aborted", () => (answeredEarly ? finish() : fail(new Error(`${method} ${pathname}: answer aborted`))))
    })
    if (body instanceof Readable) {
      body.on("error", (err) => fail(err))
      body.on("end", () => (requestDone = true))
      body.pipe(req)
    } else {
      req.end(body, () => (requestDone = true))
    }
  })
}

export const get = (pathname: string, opts: RequestOptions = {}) => request("GET", pathname, opts)

/** Parse a JSON body, with the raw text in the error when it is not JSON. */
export function json<T = any>(res: RawResponse): T {
  const text = res.body.toString("utf8")
  try {
    return JSON.parse(text) as T
  } catch {
    throw new Error(`expected JSON (HTTP ${res.status}, content-type ${res.headers["content-type"]}), got: ${text.slice(0, 300)}`)
  }
}

/** GET streamed into sha256: status, headers, size and digest, without keeping the bytes. */
export async function digest(pathname: string, opts: RequestOptions = {}) {
  const h = createHash("sha256")
  const res = await request("GET", pathname, { ...opts, sink: (c) => h.update(c) })
  return { status: res.status, headers: res.headers, size: res.received, sha256: h.digest("hex") }
}

export function header(res: { headers: IncomingHttpHeaders }, name: string): string {
  const v = res.headers[name.toLowerCase()]
  return Array.isArray(v) ? v.join(", ") : (v ?? "")
}

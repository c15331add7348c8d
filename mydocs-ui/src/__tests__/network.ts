// Fakes at the network boundary: window.fetch and XMLHttpRequest. Everything above them (the API
// client, stores, router, components) is the real code.
import { vi } from 'vitest'

export interface SeenRequest {
  method: string
  url: URL
  headers: Headers
  body: string | null
}

type Handler = (req: SeenRequest) => Response | Promise<Response>

export const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  })

/** A fake HTTP server behind window.fetch: routes by method and pathname, records every request. */
export class FakeServer {
  readonly requests: SeenRequest[] = []
  private routes: { method: string; path: RegExp | string; handler: Handler }[] = []

  on(method: string, path: RegExp | string, handler: Handler): this {
    this.routes.unshift({ method, path, handler })
    return this
  }

  install(): this {
    vi.stubGlobal('fetch', async (input: RequestInfo | URL, init: RequestInit = {}) => {
      const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url, window.location.href)
      const req: SeenRequest = {
        method: (init.method ?? 'GET').toUpperCase(),
        url,
        headers: new Headers(init.headers),
        body: typeof init.body === 'string' ? init.body : null,
      }
      this.requests.push(req)
      const route = this.routes.find(
        (r) => r.method === req.method && (typeof r.path === 'string' ? r.path === url.pathname : r.path.test(url.pathname)),
      )
      if (!route) return json(404, { detail: `no fake route for ${req.method} ${url.pathname}`, error_code: 'fake_no_route' })
      return route.handler(req)
    })
    return this
  }

  find(method: string, pathname: string): SeenRequest[] {
    return this.requests.filter((r) => r.method === method && r.url.pathname === pathname)
  }
}

/** A fake XMLHttpRequest the test drives: upload progress, the answer, network errors. */
export class FakeXhr {
  static instances: FakeXhr[] = []
  method = ''
  url = ''
  headers: Record<string, string> = {}
  body: unknown = null
  status = 0
  statusText = ''
  responseText = ''
  aborted = false
  readonly upload = new EventTarget()
  private listeners = new EventTarget()
  private responseHeaders: Record<string, string> = {}

  constructor() {
    FakeXhr.instances.push(this)
  }

  static install(): void {
    FakeXhr.instances = []
    vi.stubGlobal('XMLHttpRequest', FakeXhr)
  }

  open(method: string, url: string) {
    this.method = method
    this.url = url
  }
  setRequestHeader(name: string, value: string) {
    this.headers[name.toLowerCase()] = value
  }
  getResponseHeader(name: string): string | null {
    return this.responseHeaders[name.toLowerCase()] ?? null
  }
  addEventListener(type: string, fn: EventListener) {
    this.listeners.addEventListener(type, fn)
  }
  send(body: unknown) {
    this.body = body
  }
  abort() {
    this.aborted = true
    this.listeners.dispatchEvent(new Event('abort'))
  }

  // --- driven by the test ---
  progress(loaded: number, total: number) {
    const e = new Event('progress') as Event & { loaded: number; total: number; lengthComputable: boolean }
    Object.assign(e, { loaded, total, lengthComputable: true })
    this.upload.dispatchEvent(e)
  }
  respond(status: number, body: unknown, contentType = 'application/json') {
    this.status = status
    this.responseText = typeof body === 'string' ? body : JSON.stringify(body)
    this.responseHeaders['content-type'] = contentType
    this.listeners.dispatchEvent(new Event('load'))
  }
  failNetwork() {
    this.listeners.dispatchEvent(new Event('error'))
  }
}

/** Waits until `check` holds (the code under test runs on promises and microtasks). */
export async function until(check: () => boolean, what = 'condition', timeoutMs = 2000): Promise<void> {
  const start = Date.now()
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 1))
  }
}

export const doc = (id: string, name: string, extra: Record<string, unknown> = {}) => ({
  id,
  name,
  size: 1234,
  sha256: 'a'.repeat(64),
  content_type: 'application/pdf',
  tags: [],
  storage_mode: 'managed',
  storage_backend: 'local',
  created_at: '2026-11-01T10:00:00Z',
  updated_at: '2026-11-01T10:00:00Z',
  ...extra,
})

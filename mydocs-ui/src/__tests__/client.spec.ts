import { beforeEach, describe, expect, it } from 'vitest'
import { ApiClient, ApiError, SignInRequiredError, filenameFromDisposition, type TokenProvider } from '../api/client'
import { FakeServer, doc, json } from './network'

class Tokens implements TokenProvider {
  calls: boolean[] = []
  unauthorized = 0
  constructor(private values: (string | null | Error)[]) {}
  async getToken(options?: { forceRefresh?: boolean }) {
    this.calls.push(options?.forceRefresh ?? false)
    const v = this.values[Math.min(this.calls.length - 1, this.values.length - 1)]
    if (v instanceof Error) throw v
    return v ?? null
  }
  onUnauthorized() {
    this.unauthorized++
  }
}

let server: FakeServer
beforeEach(() => {
  server = new FakeServer().install()
})

describe('ApiClient', () => {
  it('prefixes every call with the configured base URL and builds the query', async () => {
    server.on('GET', '/mydocs/api/v1/documents', () => json(200, { items: [doc('d1', 'a.pdf')], total: 1, page: 2, page_size: 5 }))
    const api = new ApiClient({ baseUrl: '/mydocs/api/v1', auth: new Tokens([null]) })
    const page = await api.listDocuments({ page: 2, page_size: 5, q: 'inv oice', tag: '', sort: 'name', order: 'asc' })
    expect(page.items[0]?.name).toBe('a.pdf')
    const [req] = server.requests
    expect(req!.url.pathname).toBe('/mydocs/api/v1/documents')
    expect(Object.fromEntries(req!.url.searchParams)).toEqual({ page: '2', page_size: '5', q: 'inv oice', sort: 'name', order: 'asc' })
  })

  it('talks to an absolute base URL on another origin', async () => {
    server.on('GET', '/api/v1/info', () => json(200, { version: '1', auth_enabled: false, storage_backend: 'local', max_upload_bytes: 1 }))
    const api = new ApiClient({ baseUrl: 'https://api.example.com/api/v1', auth: new Tokens([null]) })
    await api.info()
    expect(server.requests[0]!.url.href).toBe('https://api.example.com/api/v1/info')
    expect(api.healthUrl('/health/ready')).toBe('https://api.example.com/health/ready')
  })

  it('sends no Authorization header when sign-in is off', async () => {
    server.on('GET', '/api/v1/info', () => json(200, {}))
    await new ApiClient({ baseUrl: '/api/v1', auth: new Tokens([null]) }).info()
    expect(server.requests[0]!.headers.has('Authorization')).toBe(false)
  })

  it('attaches the bearer token to JSON calls and to downloads', async () => {
    server
      .on('PUT', '/api/v1/documents/d1/tags', (r) => json(200, doc('d1', 'a.pdf', { tags: JSON.parse(r.body!).tags })))
      .on('GET', '/api/v1/documents/d1/file', () =>
        new Response('%PDF-1.7 bytes', {
          status: 200,
          headers: { 'Content-Type': 'application/pdf', 'Content-Disposition': "attachment; filename*=UTF-8''r%C3%A9sum%C3%A9%20final.pdf" },
        }),
      )
    const tokens = new Tokens(['tok-A'])
    const api = new ApiClient({ baseUrl: '/api/v1', auth: tokens })
    const updated = await api.setTags('d1', ['x', 'y'])
    expect(updated.tags).toEqual(['x', 'y'])
    const file = await api.download({ id: 'd1', name: 'fallback.pdf' })
    expect(file.filename).toBe('résumé final.pdf')
    expect(await file.blob.text()).toBe('%PDF-1.7 bytes')
    for (const r of server.requests) expect(r.headers.get('Authorization')).toBe('Bearer tok-A')
    expect(server.requests[0]!.headers.get('Content-Type')).toBe('application/json')
  })

  it('renews the token once on a 401 and retries the call', async () => {
    server.on('GET', '/api/v1/documents/d1', (r) =>
      r.headers.get('Authorization') === 'Bearer fresh' ? json(200, doc('d1', 'a.pdf')) : json(401, { detail: 'expired', error_code: 'token_expired' }),
    )
    const tokens = new Tokens(['stale', 'fresh'])
    const got = await new ApiClient({ baseUrl: '/api/v1', auth: tokens }).getDocument('d1')
    expect(got.id).toBe('d1')
    expect(tokens.calls).toEqual([false, true])
    expect(tokens.unauthorized).toBe(0)
  })

  it('asks for a new sign-in when the renewed token is refused too', async () => {
    server.on('GET', '/api/v1/documents/d1', () => json(401, { detail: 'bad audience', error_code: 'invalid_token' }))
    const tokens = new Tokens(['one', 'two'])
    const err = await new ApiClient({ baseUrl: '/api/v1', auth: tokens }).getDocument('d1').catch((e) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err.status).toBe(401)
    expect(err.errorCode).toBe('invalid_token')
    expect(err.message).toMatch(/Sign in again/)
    expect(tokens.unauthorized).toBe(1)
    expect(server.requests).toHaveLength(2)
  })

  it('asks for a sign-in when no token can be had silently, without calling the API', async () => {
    const tokens = new Tokens([new SignInRequiredError('interaction_required')])
    const err = await new ApiClient({ baseUrl: '/api/v1', auth: tokens }).info().catch((e) => e)
    expect(err).toMatchObject({ status: 401, errorCode: 'sign_in_required' })
    expect(tokens.unauthorized).toBe(1)
    expect(server.requests).toHaveLength(0)
  })

  it('explains a 401 when the UI was built without sign-in', async () => {
    server.on('GET', '/api/v1/info', () => json(401, { detail: 'Missing bearer token', error_code: 'missing_token' }))
    const err = await new ApiClient({ baseUrl: '/api/v1', auth: new Tokens([null]) }).info().catch((e) => e)
    expect(err.message).toMatch(/requires sign-in.*VITE_ENTRA_CLIENT_ID/)
  })

  it('turns error bodies into ApiError with detail and error_code', async () => {
    server
      .on('GET', '/api/v1/documents/nope', () => json(404, { detail: 'Document not found', error_code: 'document_not_found' }))
      .on('GET', '/api/v1/documents', () => json(422, { detail: [{ loc: ['query', 'page'], msg: 'must be >= 1' }] }))
      .on('DELETE', '/api/v1/documents/d1', () => new Response('<html>Bad Gateway</html>', { status: 502, statusText: 'Bad Gateway' }))
    const api = new ApiClient({ baseUrl: '/api/v1', auth: new Tokens([null]) })
    await expect(api.getDocument('nope')).rejects.toMatchObject({ status: 404, errorCode: 'document_not_found', message: 'Document not found' })
    await expect(api.listDocuments({ page: 0, page_size: 1 })).rejects.toMatchObject({ status: 422, message: 'must be >= 1' })
    await expect(api.deleteDocument('d1')).rejects.toMatchObject({ status: 502, errorCode: 'http_502', message: '502 Bad Gateway' })
  })

  it('reports a network failure clearly', async () => {
    const api = new ApiClient({ baseUrl: '/api/v1', auth: new Tokens([null]) })
    ;(globalThis as { fetch: unknown }).fetch = async () => {
      throw new TypeError('Failed to fetch')
    }
    await expect(api.info()).rejects.toMatchObject({ status: 0, errorCode: 'network_error', message: /Cannot reach the server/ })
  })

  it('reads readiness failures from the 503 body instead of throwing', async () => {
    server.on('GET', '/health/ready', () => json(503, { status: 'not_ready', error_code: 'not_ready', checks: { mongo: 'ok', storage: 'error: unreachable' } }))
    const r = await new ApiClient({ baseUrl: '/api/v1', auth: new Tokens([null]) }).ready()
    expect(r).toEqual({ ok: false, answer: { status: 'not_ready', checks: { mongo: 'ok', storage: 'error: unreachable' } } })
    expect(server.requests[0]!.url.pathname).toBe('/health/ready')
  })

  it('encodes ids in paths and posts storage operations with the contract bodies', async () => {
    server
      .on('POST', '/api/v1/sync/migrate/execute', () => json(202, { job_id: 'j1' }))
      .on('GET', /^\/api\/v1\/sync\/jobs\//, () => json(200, { id: 'x' }))
    const api = new ApiClient({ baseUrl: '/api/v1', auth: new Tokens([null]) })
    expect(await api.migrateExecute('local', 'azure_blob', true)).toEqual({ job_id: 'j1' })
    expect(JSON.parse(server.requests[0]!.body!)).toEqual({ source_backend: 'local', target_backend: 'azure_blob', delete_source: true })
    await api.getJob('../x?y')
    expect(server.requests[1]!.url.pathname).toBe('/api/v1/sync/jobs/..%2Fx%3Fy')
  })
})

describe('filenameFromDisposition', () => {
  it('prefers filename*, falls back to filename and then to the given name', () => {
    expect(filenameFromDisposition(`attachment; filename="a.txt"; filename*=UTF-8''%E2%82%AC.txt`, 'x')).toBe('€.txt')
    expect(filenameFromDisposition('attachment; filename="plain name.txt"', 'x')).toBe('plain name.txt')
    expect(filenameFromDisposition(null, 'doc.pdf')).toBe('doc.pdf')
  })
})

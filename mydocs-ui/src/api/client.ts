// The one HTTP client of the SPA. Every call carries the access token (when sign-in is configured),
// downloads included; uploads go through XMLHttpRequest for upload progress events.
import type {
  DocumentItem, DocumentPage, HealthAnswer, Info, Job, JobStarted, ListParams, Plan,
  ReadyAnswer, StorageBackendName, UploadResult,
} from './types'

/** Thrown by a token provider when only an interactive sign-in can produce a token. */
export class SignInRequiredError extends Error {
  override name = 'SignInRequiredError'
}

export class ApiError extends Error {
  override name = 'ApiError'
  constructor(
    readonly status: number,
    readonly errorCode: string,
    readonly detail: string,
    readonly body?: unknown,
  ) {
    super(detail)
  }
}

export class UploadCancelledError extends Error {
  override name = 'UploadCancelledError'
  constructor() {
    super('Upload cancelled')
  }
}

export interface TokenProvider {
  /** The bearer token, or null when sign-in is not configured. Throws SignInRequiredError. */
  getToken(options?: { forceRefresh?: boolean }): Promise<string | null>
  /** Called when the API refused the token: the user has to sign in again. */
  onUnauthorized(): void
}

export interface ApiClientOptions {
  baseUrl: string
  auth: TokenProvider
}

export interface Download {
  blob: Blob
  filename: string
}

export interface UploadOptions {
  tags?: string[]
  onProgress?: (loaded: number, total: number) => void
  signal?: AbortSignal
}

type Query = Record<string, string | number | undefined | null>

const SESSION_EXPIRED = 'Your session has expired or was rejected by the server. Sign in again.'

/** Parses `{"detail","error_code"}`, or makes a readable message from whatever the server sent. */
async function errorFrom(res: Response): Promise<ApiError> {
  let body: unknown
  const text = await res.text().catch(() => '')
  try {
    body = text ? JSON.parse(text) : undefined
  } catch {
    body = undefined
  }
  const rec = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>
  let detail = typeof rec.detail === 'string' ? rec.detail : ''
  if (!detail && Array.isArray(rec.detail)) {
    // FastAPI validation errors: [{loc, msg}, ...]
    detail = rec.detail.map((d) => (d && typeof d === 'object' && 'msg' in d ? String(d.msg) : String(d))).join('; ')
  }
  if (!detail) detail = `${res.status} ${res.statusText || 'error'}`.trim()
  const code = typeof rec.error_code === 'string' ? rec.error_code : `http_${res.status}`
  return new ApiError(res.status, code, detail, body)
}

/** File name from `Content-Disposition` (RFC 5987 `filename*` first), else the fallback. */
export function filenameFromDisposition(header: string | null, fallback: string): string {
  if (!header) return fallback
  const star = /filename\*\s*=\s*([^']*)'[^']*'([^;]+)/i.exec(header)
  if (star?.[2]) {
    try {
      return decodeURIComponent(star[2].trim().replace(/^"|"$/g, ''))
    } catch {
      /* fall through to the plain parameter */
    }
  }
  const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(header)
  return plain?.[1]?.trim() || fallback
}

export class ApiClient {
  constructor(private readonly options: ApiClientOptions) {}

  get baseUrl(): string {
    return this.options.baseUrl
  }

  /** Absolute URL of an API path (`/documents` -> `<base>/documents?...`). */
  url(path: string, query?: Query): string {
    const base = new URL(this.options.baseUrl + path, window.location.href)
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v !== undefined && v !== null && v !== '') base.searchParams.set(k, String(v))
    }
    return base.toString()
  }

  /** `/health` and `/health/ready` live at the root of the API's origin, outside the API base. */
  healthUrl(path: '/health' | '/health/ready'): string {
    return new URL(path, new URL(this.options.baseUrl || '/', window.location.href)).toString()
  }

  private async token(forceRefresh = false): Promise<string | null> {
    try {
      return await this.options.auth.getToken({ forceRefresh })
    } catch (e) {
      if (e instanceof SignInRequiredError) {
        this.options.auth.onUnauthorized()
        throw new ApiError(401, 'sign_in_required', SESSION_EXPIRED)
      }
      throw e
    }
  }

  /** fetch with the bearer token; a 401 renews the token once, then asks the user to sign in. */
  async send(input: string, init: RequestInit = {}): Promise<Response> {
    const attempt = async (forceRefresh: boolean) => {
      const token = await this.token(forceRefresh)
      const headers = new Headers(init.headers)
      if (token) headers.set('Authorization', `Bearer ${token}`)
      let res: Response
      try {
        res = await fetch(input, { ...init, headers })
      } catch (e) {
        if ((e as Error)?.name === 'AbortError') throw e
        throw new ApiError(0, 'network_error', `Cannot reach the server (${(e as Error)?.message || 'network error'})`)
      }
      return { res, token }
    }
    let { res, token } = await attempt(false)
    if (res.status === 401 && token) {
      ;({ res, token } = await attempt(true))
    }
    if (res.status === 401) {
      const err = await errorFrom(res)
      this.options.auth.onUnauthorized()
      throw token
        ? new ApiError(401, err.errorCode, SESSION_EXPIRED, err.body)
        : new ApiError(401, err.errorCode, `The server requires sign-in (${err.detail}). This UI was built without VITE_ENTRA_CLIENT_ID.`, err.body)
    }
    if (!res.ok) throw await errorFrom(res)
    return res
  }

  private async json<T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
    const init: RequestInit = { method, headers: { Accept: 'application/json' } }
    if (body !== undefined) {
      init.body = JSON.stringify(body)
      init.headers = { ...init.headers, 'Content-Type': 'application/json' }
    }
    const res = await this.send(this.url(path, query), init)
    if (res.status === 204) return undefined as T
    return (await res.json()) as T
  }

  // --- status (no token needed; /health is public by design) ---
  async health(): Promise<HealthAnswer> {
    const res = await fetch(this.healthUrl('/health'), { headers: { Accept: 'application/json' } })
    if (!res.ok) throw await errorFrom(res)
    return (await res.json()) as HealthAnswer
  }

  /** Readiness: the 503 answer carries the failing checks, so it is returned, not thrown. */
  async ready(): Promise<{ ok: boolean; answer: ReadyAnswer }> {
    const res = await fetch(this.healthUrl('/health/ready'), { headers: { Accept: 'application/json' } })
    if (res.ok || res.status === 503) {
      const answer = (await res.json().catch(() => ({ status: 'unknown', checks: {} }))) as ReadyAnswer
      return { ok: res.ok, answer: { status: answer.status ?? 'unknown', checks: answer.checks ?? {} } }
    }
    throw await errorFrom(res)
  }

  info(): Promise<Info> {
    return this.json('GET', '/info')
  }

  // --- documents ---
  listDocuments(params: ListParams): Promise<DocumentPage> {
    return this.json('GET', '/documents', undefined, { ...params })
  }

  getDocument(id: string): Promise<DocumentItem> {
    return this.json('GET', `/documents/${encodeURIComponent(id)}`)
  }

  setTags(id: string, tags: string[]): Promise<DocumentItem> {
    return this.json('PUT', `/documents/${encodeURIComponent(id)}/tags`, { tags })
  }

  async deleteDocument(id: string): Promise<void> {
    await this.json('DELETE', `/documents/${encodeURIComponent(id)}`)
  }

  /** The file's bytes, fetched with the token (never a plain link to a protected URL). */
  async download(doc: Pick<DocumentItem, 'id' | 'name'>): Promise<Download> {
    const res = await this.send(this.url(`/documents/${encodeURIComponent(doc.id)}/file`))
    const blob = await res.blob()
    return { blob, filename: filenameFromDisposition(res.headers.get('Content-Disposition'), doc.name) }
  }

  /** Uploads one file (multipart field `files`) with progress events; resolves to its result. */
  async upload(file: File, options: UploadOptions = {}): Promise<UploadResult> {
    if (options.signal?.aborted) throw new UploadCancelledError()
    const token = await this.token()
    const form = new FormData()
    form.append('files', file, file.name)
    if (options.tags?.length) form.append('tags', options.tags.join(','))
    const url = this.url('/documents/upload')

    return new Promise<UploadResult>((resolve, reject) => {
      const xhr = new XMLHttpRequest()
      const onAbort = () => xhr.abort()
      const done = () => options.signal?.removeEventListener('abort', onAbort)
      xhr.open('POST', url)
      xhr.setRequestHeader('Accept', 'application/json')
      if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`)
      xhr.upload.addEventListener('progress', (e) => {
        if (e.lengthComputable) options.onProgress?.(e.loaded, e.total)
      })
      xhr.addEventListener('load', () => {
        done()
        const res = new Response(xhr.responseText, {
          status: xhr.status,
          statusText: xhr.statusText,
          headers: { 'Content-Type': xhr.getResponseHeader('Content-Type') ?? 'application/json' },
        })
        if (xhr.status === 401) {
          this.options.auth.onUnauthorized()
          reject(new ApiError(401, 'unauthorized', SESSION_EXPIRED))
          return
        }
        if (xhr.status < 200 || xhr.status >= 300) {
          errorFrom(res).then(reject, reject)
          return
        }
        res.json().then((body: { results?: UploadResult[] }) => {
          const result = body.results?.[0]
          if (result) resolve(result)
          else reject(new ApiError(xhr.status, 'bad_response', 'The server answered without an upload result'))
        }, () => reject(new ApiError(xhr.status, 'bad_response', 'The server answered with invalid JSON')))
      })
      xhr.addEventListener('error', () => {
        done()
        reject(new ApiError(0, 'network_error', 'Network error: the upload did not reach the server'))
      })
      xhr.addEventListener('abort', () => {
        done()
        reject(new UploadCancelledError())
      })
      options.signal?.addEventListener('abort', onAbort, { once: true })
      xhr.send(form)
    })
  }

  // --- storage operations ---
  syncPlan(backend: StorageBackendName): Promise<Plan> {
    return this.json('POST', '/sync/plan', { backend })
  }

  syncExecute(backend: StorageBackendName): Promise<JobStarted> {
    return this.json('POST', '/sync/execute', { backend })
  }

  migratePlan(source: StorageBackendName, target: StorageBackendName): Promise<Plan> {
    return this.json('POST', '/sync/migrate/plan', { source_backend: source, target_backend: target })
  }

  migrateExecute(source: StorageBackendName, target: StorageBackendName, deleteSource: boolean): Promise<JobStarted> {
    return this.json('POST', '/sync/migrate/execute', {
      source_backend: source, target_backend: target, delete_source: deleteSource,
    })
  }

  getJob(id: string): Promise<Job> {
    return this.json('GET', `/sync/jobs/${encodeURIComponent(id)}`)
  }
}

// The MyDocs HTTP API as the suite uses it (docs/contracts.md §3), always through BASE_URL, and a
// registry of every document the suite creates so that a run leaves nothing behind.
import { createHash, randomBytes } from "node:crypto"
import { Readable } from "node:stream"
import { chunks } from "./content.js"
import { json, request, type RawResponse } from "./http.js"

export const MAX_UPLOAD_BYTES = 100 * 1024 * 1024

export interface Document {
  id: string
  name: string
  size: number
  sha256: string
  content_type: string | null
  tags: string[]
  storage_mode: "managed" | "external"
  storage_backend: string
  created_at: string
  updated_at: string
}
export interface UploadResult {
  filename: string
  document: Document
  duplicate: boolean
}
export interface DocumentList {
  items: Document[]
  total: number
  page: number
  page_size: number
}

/** A file to upload: generated content (seed, size) or given bytes. */
export type UploadFile = { name: string; contentType?: string } & ({ seed: string; size: number } | { data: Buffer })

export interface UploadAnswer {
  res: RawResponse
  /** sha256 of each file as sent, in order. */
  sent: string[]
}

/** A name that is unique to this run and easy to find again (and to clean up by hand if ever needed). */
export function runName(label: string, ext = "bin"): string {
  return `e2e-${new Date().toISOString().replace(/[-:.TZ]/g, "").slice(0, 14)}-${randomBytes(4).toString("hex")}-${label}.${ext}`
}

function quoteName(name: string): string {
  return name.replace(/["\\\r\n]/g, "_")
}

/** POST /api/v1/documents/upload as a streamed multipart body with an exact Content-Length. */
export async function upload(files: UploadFile[], tags?: string): Promise<UploadAnswer> {
  const boundary = `----mydocs-e2e-${randomBytes(12).toString("hex")}`
  const heads = files.map((f) =>
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="${quoteName(f.name)}"\r\n` +
        `Content-Type: ${f.contentType ?? "application/octet-stream"}\r\n\r\n`,
    ),
  )
  const tagPart = tags === undefined ? Buffer.alloc(0) : Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="tags"\r\n\r\n${tags}\r\n`)
  const tail = Buffer.from(`--${boundary}--\r\n`)
  const sizeOf = (f: UploadFile) => ("data" in f ? f.data.length : f.size)
  const length = tagPart.length + files.reduce((n, f, i) => n + heads[i].length + sizeOf(f) + 2, 0) + tail.length

  const sent: string[] = []
  function* body(): Generator<Buffer> {
    if (tagPart.length) yield tagPart
    for (const [i, f] of files.entries()) {
      yield heads[i]
      const h = createHash("sha256")
      for (const c of "data" in f ? [f.data] : chunks(f.seed, f.size)) {
        h.update(c)
        yield c
      }
      sent.push(h.digest("hex"))
      yield Buffer.from("\r\n")
    }
    yield tail
  }
  const res = await request("POST", "/api/v1/documents/upload", {
    headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
    body: Readable.from(body(), { objectMode: false }),
    contentLength: length,
    timeoutMs: 600_000,
  })
  return { res, sent }
}

export async function list(params: Record<string, string | number> = {}): Promise<DocumentList> {
  const qs = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString()
  const res = await request("GET", `/api/v1/documents${qs ? `?${qs}` : ""}`)
  if (res.status !== 200) throw new Error(`list documents: HTTP ${res.status}: ${res.body.toString().slice(0, 300)}`)
  return json<DocumentList>(res)
}

/** Documents whose name contains `name`, filtered to the exact name. */
export async function findByName(name: string): Promise<Document[]> {
  const found = await list({ q: name, page_size: 100 })
  return found.items.filter((d) => d.name === name)
}

export async function getDocument(id: string): Promise<RawResponse> {
  return request("GET", `/api/v1/documents/${encodeURIComponent(id)}`)
}

export async function deleteDocument(id: string): Promise<RawResponse> {
  return request("DELETE", `/api/v1/documents/${encodeURIComponent(id)}`)
}

/** Every document this process created; `cleanup()` deletes those still there. */
const created = new Set<string>()

export function track(id: string): void {
  created.add(id)
}

export function forget(id: string): void {
  created.delete(id)
}

/** Track the new (non-duplicate) documents of an upload answer; returns its results. */
export function trackUpload(res: RawResponse): UploadResult[] {
  const results = json<{ results: UploadResult[] }>(res).results
  for (const r of results) if (!r.duplicate) track(r.document.id)
  return results
}

/** Delete every tracked document; returns the problems (empty when all went or were already gone). */
export async function cleanup(): Promise<string[]> {
  const problems: string[] = []
  for (const id of [...created]) {
    try {
      const res = await deleteDocument(id)
      if (res.status === 204 || res.status === 404) created.delete(id)
      else problems.push(`DELETE ${id}: HTTP ${res.status} ${res.body.toString().slice(0, 200)}`)
    } catch (e) {
      problems.push(`DELETE ${id}: ${(e as Error).message}`)
    }
  }
  return problems
}

// Shapes of the MyDocs HTTP API (docs/contracts.md section 3).

export type StorageBackendName = 'local' | 'azure_blob'
export type StorageMode = 'managed' | 'external'
export const STORAGE_BACKENDS: readonly StorageBackendName[] = ['local', 'azure_blob']

export interface DocumentItem {
  id: string
  name: string
  size: number
  sha256: string
  content_type: string | null
  tags: string[]
  storage_mode: StorageMode
  storage_backend: StorageBackendName
  created_at: string
  updated_at: string
}

export interface DocumentPage {
  items: DocumentItem[]
  total: number
  page: number
  page_size: number
}

export type SortField = 'name' | 'size' | 'created_at' | 'updated_at'
export type SortOrder = 'asc' | 'desc'

export interface ListParams {
  page: number
  page_size: number
  q?: string
  tag?: string
  sort?: SortField
  order?: SortOrder
}

export interface UploadResult {
  filename: string
  document: DocumentItem
  duplicate: boolean
}

export interface Info {
  version: string
  auth_enabled: boolean
  storage_backend: StorageBackendName
  max_upload_bytes: number
}

export interface HealthAnswer {
  status: string
}

export interface ReadyAnswer {
  status: string
  checks: Record<string, string>
}

/** Sync and migrate plans: lists of affected items plus counters; rendered generically. */
export type Plan = Record<string, unknown>

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed'

export interface Job {
  id: string
  kind: 'sync' | 'migrate'
  status: JobStatus
  progress: { done: number; total: number }
  report: Record<string, unknown> | null
  error: string | null
  created_at: string
  updated_at: string
}

export interface JobStarted {
  job_id: string
}

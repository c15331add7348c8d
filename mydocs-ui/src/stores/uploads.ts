import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { useApi } from '../api'
import { UploadCancelledError } from '../api/client'
import type { UploadResult } from '../api/types'
import { formatBytes } from '../utils/format'
import { useDocumentsStore } from './documents'
import { useStatusStore } from './status'

/** The backend's limit (docs/contracts.md: 413 above 100 MiB); /api/v1/info may say otherwise. */
export const DEFAULT_MAX_UPLOAD_BYTES = 100 * 1024 * 1024

export type UploadState = 'queued' | 'uploading' | 'done' | 'duplicate' | 'failed' | 'cancelled' | 'rejected'

export interface UploadItem {
  key: number
  file: File
  name: string
  size: number
  state: UploadState
  loaded: number
  message: string | null
  result: UploadResult | null
}

const FINISHED: UploadState[] = ['done', 'duplicate', 'failed', 'cancelled', 'rejected']

export const useUploadsStore = defineStore('uploads', () => {
  const items = ref<UploadItem[]>([])
  const running = ref(false)
  let nextKey = 1
  const controllers = new Map<number, AbortController>()

  const maxBytes = computed(() => useStatusStore().info?.max_upload_bytes || DEFAULT_MAX_UPLOAD_BYTES)

  /** Files counted in the overall bar: everything that is or was really sent. */
  const active = computed(() => items.value.filter((i) => i.state !== 'rejected' && i.state !== 'cancelled'))
  const totalBytes = computed(() => active.value.reduce((n, i) => n + i.size, 0))
  const sentBytes = computed(() => active.value.reduce((n, i) => n + Math.min(i.loaded, i.size), 0))
  const overall = computed(() => (totalBytes.value ? sentBytes.value / totalBytes.value : active.value.length ? 1 : 0))
  const pending = computed(() => items.value.filter((i) => i.state === 'queued' || i.state === 'uploading').length)

  /** Queues files; a file over the limit is refused at once with a message, never sent. */
  function add(files: Iterable<File>): void {
    for (const file of files) {
      const item: UploadItem = {
        key: nextKey++, file, name: file.name, size: file.size, state: 'queued', loaded: 0, message: null, result: null,
      }
      if (file.size > maxBytes.value) {
        item.state = 'rejected'
        item.message = `${file.name} is larger than the ${formatBytes(maxBytes.value)} upload limit (${formatBytes(file.size)}). It was not uploaded.`
      }
      items.value.push(item)
    }
  }

  function find(key: number): UploadItem | undefined {
    return items.value.find((i) => i.key === key)
  }

  /** Uploads every queued file, one request per file; refreshes the library afterwards. */
  async function start(tags: string[] = []): Promise<void> {
    if (running.value) return
    running.value = true
    let stored = 0
    try {
      for (let item = nextQueued(); item; item = nextQueued()) {
        const key = item.key
        const controller = new AbortController()
        controllers.set(key, controller)
        item.state = 'uploading'
        try {
          const result = await useApi().upload(item.file, {
            tags,
            signal: controller.signal,
            onProgress: (loaded) => {
              const it = find(key)
              if (it) it.loaded = loaded
            },
          })
          const it = find(key)
          if (it) {
            it.loaded = it.size
            it.result = result
            it.state = result.duplicate ? 'duplicate' : 'done'
            it.message = result.duplicate ? 'Already in the library (same content)' : null
          }
          stored++
        } catch (e) {
          const it = find(key)
          if (it) {
            if (e instanceof UploadCancelledError) {
              it.state = 'cancelled'
              it.message = 'Cancelled'
            } else {
              it.state = 'failed'
              it.message = (e as Error)?.message ?? String(e)
            }
          }
        } finally {
          controllers.delete(key)
        }
      }
    } finally {
      running.value = false
    }
    if (stored) await useDocumentsStore().reload()
  }

  function nextQueued(): UploadItem | undefined {
    return items.value.find((i) => i.state === 'queued')
  }

  function cancel(key: number): void {
    const it = find(key)
    if (!it) return
    if (it.state === 'queued') {
      it.state = 'cancelled'
      it.message = 'Cancelled'
    } else if (it.state === 'uploading') {
      controllers.get(key)?.abort()
    }
  }

  function cancelAll(): void {
    for (const it of items.value) cancel(it.key)
  }

  function clearFinished(): void {
    items.value = items.value.filter((i) => !FINISHED.includes(i.state))
  }

  return { items, running, maxBytes, totalBytes, sentBytes, overall, pending, add, start, cancel, cancelAll, clearFinished }
})

import { defineStore } from 'pinia'
import { ref } from 'vue'
import { useApi } from '../api'
import type { DocumentItem, ListParams } from '../api/types'

export const DEFAULT_PAGE_SIZE = 20

/** The library listing: the last query, its page of documents, loading and error state. */
export const useDocumentsStore = defineStore('documents', () => {
  const params = ref<ListParams>({ page: 1, page_size: DEFAULT_PAGE_SIZE, sort: 'created_at', order: 'desc' })
  const items = ref<DocumentItem[]>([])
  const total = ref(0)
  const loading = ref(false)
  const error = ref<string | null>(null)
  const loaded = ref(false)
  let seq = 0

  async function load(next: ListParams = params.value): Promise<void> {
    params.value = { ...next }
    const mine = ++seq
    loading.value = true
    error.value = null
    try {
      const page = await useApi().listDocuments(next)
      if (mine !== seq) return // a newer query answered first
      items.value = page.items
      total.value = page.total
      loaded.value = true
    } catch (e) {
      if (mine !== seq) return
      error.value = (e as Error)?.message ?? String(e)
    } finally {
      if (mine === seq) loading.value = false
    }
  }

  const reload = () => load(params.value)

  /** Keeps a document that changed elsewhere (tags) in the listing up to date. */
  function replace(doc: DocumentItem): void {
    const i = items.value.findIndex((d) => d.id === doc.id)
    if (i >= 0) items.value[i] = doc
  }

  function remove(id: string): void {
    const before = items.value.length
    items.value = items.value.filter((d) => d.id !== id)
    if (items.value.length < before) total.value = Math.max(0, total.value - 1)
  }

  return { params, items, total, loading, error, loaded, load, reload, replace, remove }
})

import { defineStore } from 'pinia'
import { ref } from 'vue'
import { useApi } from '../api'
import type { Info } from '../api/types'

export type Probe = 'unknown' | 'ok' | 'down'

/** Health, readiness and /api/v1/info, shown in the "Status" region. */
export const useStatusStore = defineStore('status', () => {
  const health = ref<Probe>('unknown')
  const ready = ref<Probe>('unknown')
  const checks = ref<Record<string, string>>({})
  const info = ref<Info | null>(null)
  const infoError = ref<string | null>(null)
  const checkedAt = ref<Date | null>(null)

  /** Probes health and readiness (public); reads /info only when a token can be had. */
  async function refresh(withInfo = true): Promise<void> {
    const api = useApi()
    const [h, r, i] = await Promise.allSettled([
      api.health(),
      api.ready(),
      withInfo ? api.info() : Promise.resolve(info.value),
    ])
    health.value = h.status === 'fulfilled' && h.value.status === 'ok' ? 'ok' : 'down'
    if (r.status === 'fulfilled') {
      ready.value = r.value.ok ? 'ok' : 'down'
      checks.value = r.value.answer.checks
    } else {
      ready.value = 'down'
      checks.value = {}
    }
    if (i.status === 'fulfilled') {
      if (i.value) info.value = i.value
      infoError.value = null
    } else {
      infoError.value = (i.reason as Error)?.message ?? String(i.reason)
    }
    checkedAt.value = new Date()
  }

  return { health, ready, checks, info, infoError, checkedAt, refresh }
})

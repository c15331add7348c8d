import { defineStore } from 'pinia'
import { ref } from 'vue'
import { useApi } from '../api'
import { ApiError } from '../api/client'
import type { Job, Plan } from '../api/types'

export const JOB_POLL_MS = 1000
const TERMINAL = new Set(['succeeded', 'failed'])

/** Sync/migrate plans and the running job, polled until it ends (kept across page changes). */
export const useOperationsStore = defineStore('operations', () => {
  const plan = ref<{ kind: 'sync' | 'migrate'; title: string; body: Plan } | null>(null)
  const job = ref<Job | null>(null)
  const busy = ref(false)
  const error = ref<string | null>(null)
  let timer: ReturnType<typeof setTimeout> | null = null
  let pollingId: string | null = null

  async function run<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
    busy.value = true
    error.value = null
    try {
      return await fn()
    } catch (e) {
      error.value = `${what} failed: ${(e as Error)?.message ?? String(e)}`
      return undefined
    } finally {
      busy.value = false
    }
  }

  async function planSync(backend: 'local' | 'azure_blob'): Promise<void> {
    const body = await run('Sync plan', () => useApi().syncPlan(backend))
    if (body) plan.value = { kind: 'sync', title: `Sync plan for ${backend}`, body }
  }

  async function planMigrate(source: 'local' | 'azure_blob', target: 'local' | 'azure_blob'): Promise<void> {
    if (source === target) {
      error.value = 'Source and target backends must differ.'
      return
    }
    const body = await run('Migration plan', () => useApi().migratePlan(source, target))
    if (body) plan.value = { kind: 'migrate', title: `Migration plan from ${source} to ${target}`, body }
  }

  async function executeSync(backend: 'local' | 'azure_blob'): Promise<void> {
    const started = await run('Starting the sync', () => useApi().syncExecute(backend))
    if (started) {
      plan.value = null // the job's report replaces the plan
      watchJob(started.job_id)
    }
  }

  async function executeMigrate(source: 'local' | 'azure_blob', target: 'local' | 'azure_blob', deleteSource: boolean): Promise<void> {
    if (source === target) {
      error.value = 'Source and target backends must differ.'
      return
    }
    const started = await run('Starting the migration', () => useApi().migrateExecute(source, target, deleteSource))
    if (started) {
      plan.value = null
      watchJob(started.job_id)
    }
  }

  /** Polls GET /sync/jobs/{id} every JOB_POLL_MS until the job succeeded or failed. */
  function watchJob(id: string): void {
    stopPolling()
    pollingId = id
    job.value = null
    void poll(id)
  }

  async function poll(id: string): Promise<void> {
    if (pollingId !== id) return
    try {
      const j = await useApi().getJob(id)
      if (pollingId !== id) return
      job.value = j
      error.value = null
      if (TERMINAL.has(j.status)) {
        pollingId = null
        return
      }
    } catch (e) {
      if (pollingId !== id) return
      error.value = `Cannot read job ${id}: ${(e as Error)?.message ?? String(e)}`
      // A job that does not exist (or a session to renew) will not answer by waiting.
      if (e instanceof ApiError && (e.status === 404 || e.status === 401)) {
        pollingId = null
        return
      }
    }
    timer = setTimeout(() => void poll(id), JOB_POLL_MS)
  }

  function stopPolling(): void {
    if (timer) clearTimeout(timer)
    timer = null
    pollingId = null
  }

  return { plan, job, busy, error, planSync, planMigrate, executeSync, executeMigrate, watchJob, stopPolling }
})

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { ApiClient } from '../api/client'
import { installApi } from '../api'
import { JOB_POLL_MS, useOperationsStore } from '../stores/operations'
import { FakeServer, json } from './network'

const job = (status: string, done: number, total: number, extra: Record<string, unknown> = {}) => ({
  id: 'job-1', kind: 'migrate', status, progress: { done, total }, report: null, error: null,
  created_at: '2026-11-25T20:00:00Z', updated_at: '2026-11-25T20:00:01Z', ...extra,
})

let server: FakeServer
beforeEach(() => {
  vi.useFakeTimers()
  setActivePinia(createPinia())
  server = new FakeServer().install()
  installApi(new ApiClient({ baseUrl: '/api/v1', auth: { getToken: async () => null, onUnauthorized: () => {} } }))
})
afterEach(() => {
  useOperationsStore().stopPolling()
  vi.useRealTimers()
})

describe('operations store', () => {
  it('plans a sync for the chosen backend', async () => {
    server.on('POST', '/api/v1/sync/plan', (r) =>
      json(200, { backend: JSON.parse(r.body!).backend, restore: [{ id: 'a' }], update: [], missing_files: [], unchanged: 3 }),
    )
    const ops = useOperationsStore()
    await ops.planSync('azure_blob')
    expect(ops.plan).toEqual({
      kind: 'sync', title: 'Sync plan for azure_blob',
      body: { backend: 'azure_blob', restore: [{ id: 'a' }], update: [], missing_files: [], unchanged: 3 },
    })
  })

  it('runs a migration and polls the job until it ends, keeping the final report', async () => {
    const answers = [job('queued', 0, 0), job('running', 1, 4), job('running', 3, 4), job('succeeded', 4, 4, { report: { copied: 4, skipped: 0 } })]
    server
      .on('POST', '/api/v1/sync/migrate/execute', () => json(202, { job_id: 'job-1' }))
      .on('GET', '/api/v1/sync/jobs/job-1', () => json(200, answers.shift()))
    server.on('POST', '/api/v1/sync/migrate/plan', () => json(200, { copy: [], skip: [] }))
    const ops = useOperationsStore()
    await ops.planMigrate('local', 'azure_blob')
    expect(ops.plan?.title).toBe('Migration plan from local to azure_blob')
    await ops.executeMigrate('local', 'azure_blob', false)
    expect(ops.plan).toBeNull() // the job's report takes its place
    expect(JSON.parse(server.find('POST', '/api/v1/sync/migrate/execute')[0]!.body!)).toEqual({ source_backend: 'local', target_backend: 'azure_blob', delete_source: false })
    await vi.advanceTimersByTimeAsync(0)
    expect(ops.job?.status).toBe('queued')
    await vi.advanceTimersByTimeAsync(JOB_POLL_MS)
    expect(ops.job?.progress).toEqual({ done: 1, total: 4 })
    await vi.advanceTimersByTimeAsync(JOB_POLL_MS * 2)
    expect(ops.job?.status).toBe('succeeded')
    expect(ops.job?.report).toEqual({ copied: 4, skipped: 0 })
    const polls = server.find('GET', '/api/v1/sync/jobs/job-1').length
    await vi.advanceTimersByTimeAsync(JOB_POLL_MS * 5)
    expect(server.find('GET', '/api/v1/sync/jobs/job-1')).toHaveLength(polls) // stopped
    expect(polls).toBe(4)
  })

  it('refuses a migration onto the same backend without calling the API', async () => {
    const ops = useOperationsStore()
    await ops.executeMigrate('local', 'local', false)
    await ops.planMigrate('azure_blob', 'azure_blob')
    expect(ops.error).toBe('Source and target backends must differ.')
    expect(server.requests).toHaveLength(0)
  })

  it('keeps polling through a transient error and stops on a job that does not exist', async () => {
    let calls = 0
    server.on('GET', '/api/v1/sync/jobs/job-1', () =>
      ++calls === 1 ? json(502, { detail: 'bad gateway' }) : json(404, { detail: 'Job not found', error_code: 'job_not_found' }),
    )
    const ops = useOperationsStore()
    ops.watchJob('job-1')
    await vi.advanceTimersByTimeAsync(0)
    expect(ops.error).toMatch(/Cannot read job job-1: bad gateway/)
    await vi.advanceTimersByTimeAsync(JOB_POLL_MS)
    expect(ops.error).toMatch(/Job not found/)
    await vi.advanceTimersByTimeAsync(JOB_POLL_MS * 5)
    expect(calls).toBe(2)
  })

  it('shows the error of a failed sync start', async () => {
    server.on('POST', '/api/v1/sync/execute', () => json(409, { detail: 'A job is already running', error_code: 'job_running' }))
    const ops = useOperationsStore()
    await ops.executeSync('local')
    expect(ops.error).toBe('Starting the sync failed: A job is already running')
    expect(ops.busy).toBe(false)
    expect(ops.job).toBeNull()
  })
})

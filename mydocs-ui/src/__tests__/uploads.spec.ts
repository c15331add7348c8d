import { beforeEach, describe, expect, it } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { ApiClient } from '../api/client'
import { installApi } from '../api'
import { DEFAULT_MAX_UPLOAD_BYTES, useUploadsStore } from '../stores/uploads'
import { useStatusStore } from '../stores/status'
import { FakeServer, FakeXhr, doc, json, until } from './network'

const MiB = 1024 * 1024
const file = (name: string, size: number) => {
  const f = new File(['x'], name, { type: 'application/pdf' })
  Object.defineProperty(f, 'size', { value: size }) // a 100 MiB+ file without allocating it
  return f
}
const created = (name: string, id: string, duplicate = false) => ({
  results: [{ filename: name, document: doc(id, name), duplicate }],
})

let server: FakeServer
let unauthorized: number
beforeEach(() => {
  setActivePinia(createPinia())
  FakeXhr.install()
  unauthorized = 0
  server = new FakeServer()
    .on('GET', '/api/v1/documents', () => json(200, { items: [doc('d1', 'a.pdf')], total: 1, page: 1, page_size: 20 }))
    .install()
  installApi(new ApiClient({
    baseUrl: '/api/v1',
    auth: { getToken: async () => 'upload-token', onUnauthorized: () => void unauthorized++ },
  }))
})

describe('uploads store', () => {
  it('reports progress per file and overall, one request per file, then refreshes the list', async () => {
    const up = useUploadsStore()
    up.add([file('a.pdf', 1000), file('b.pdf', 3000)])
    const run = up.start(['invoices', '2026'])
    await until(() => FakeXhr.instances.length === 1, 'first request')
    const first = FakeXhr.instances[0]!
    expect(first.method).toBe('POST')
    expect(new URL(first.url).pathname).toBe('/api/v1/documents/upload')
    expect(first.headers.authorization).toBe('Bearer upload-token')
    const form = first.body as FormData
    expect((form.get('files') as File).name).toBe('a.pdf')
    expect(form.get('tags')).toBe('invoices,2026')

    first.progress(500, 1000)
    expect(up.items[0]!.loaded).toBe(500)
    expect(up.items[0]!.state).toBe('uploading')
    expect(up.overall).toBeCloseTo(500 / 4000)

    first.respond(201, created('a.pdf', 'd1'))
    await until(() => FakeXhr.instances.length === 2, 'second request')
    expect(up.items[0]!.state).toBe('done')
    expect(up.overall).toBeCloseTo(1000 / 4000)
    FakeXhr.instances[1]!.progress(1500, 3000)
    expect(up.overall).toBeCloseTo(2500 / 4000)
    FakeXhr.instances[1]!.respond(201, created('b.pdf', 'd2', true))
    await run

    expect(up.items.map((i) => i.state)).toEqual(['done', 'duplicate'])
    expect(up.items[1]!.message).toMatch(/Already in the library/)
    expect(up.overall).toBe(1)
    expect(up.running).toBe(false)
    expect(server.find('GET', '/api/v1/documents')).toHaveLength(1)
  })

  it('refuses files over 100 MiB before sending anything, with a clear message', async () => {
    const up = useUploadsStore()
    up.add([file('huge.iso', DEFAULT_MAX_UPLOAD_BYTES + 1), file('ok.txt', 10)])
    expect(up.items[0]!.state).toBe('rejected')
    expect(up.items[0]!.message).toBe('huge.iso is larger than the 100 MiB upload limit (100 MiB). It was not uploaded.')
    const run = up.start()
    await until(() => FakeXhr.instances.length === 1, 'request')
    expect((FakeXhr.instances[0]!.body as FormData).get('files')).toHaveProperty('name', 'ok.txt')
    FakeXhr.instances[0]!.respond(201, created('ok.txt', 'd3'))
    await run
    expect(FakeXhr.instances).toHaveLength(1)
    expect(up.overall).toBe(1) // the rejected file is not part of the overall bar
  })

  it('uses the server limit from /api/v1/info when known', () => {
    useStatusStore().info = { version: '1', auth_enabled: false, storage_backend: 'local', max_upload_bytes: 5 * MiB }
    const up = useUploadsStore()
    up.add([file('six.bin', 6 * MiB), file('four.bin', 4 * MiB)])
    expect(up.items.map((i) => i.state)).toEqual(['rejected', 'queued'])
    expect(up.items[0]!.message).toBe('six.bin is larger than the 5.0 MiB upload limit (6.0 MiB). It was not uploaded.')
  })

  it('shows each server error on its own file and goes on with the others', async () => {
    const up = useUploadsStore()
    up.add([file('big.pdf', 100), file('net.pdf', 100), file('fine.pdf', 100)])
    const run = up.start()
    await until(() => FakeXhr.instances.length === 1, 'request 1')
    FakeXhr.instances[0]!.respond(413, { detail: 'File exceeds 104857600 bytes', error_code: 'file_too_large' })
    await until(() => FakeXhr.instances.length === 2, 'request 2')
    FakeXhr.instances[1]!.failNetwork()
    await until(() => FakeXhr.instances.length === 3, 'request 3')
    FakeXhr.instances[2]!.respond(201, created('fine.pdf', 'd9'))
    await run
    expect(up.items.map((i) => [i.state, i.message])).toEqual([
      ['failed', 'File exceeds 104857600 bytes'],
      ['failed', 'Network error: the upload did not reach the server'],
      ['done', null],
    ])
    expect(server.find('GET', '/api/v1/documents')).toHaveLength(1)
  })

  it('cancels the running upload (abort) and a queued one, without refreshing for nothing', async () => {
    const up = useUploadsStore()
    up.add([file('a.pdf', 100), file('b.pdf', 100)])
    const run = up.start()
    await until(() => FakeXhr.instances.length === 1, 'request')
    FakeXhr.instances[0]!.progress(40, 100)
    up.cancel(up.items[1]!.key)
    up.cancel(up.items[0]!.key)
    await run
    expect(FakeXhr.instances[0]!.aborted).toBe(true)
    expect(FakeXhr.instances).toHaveLength(1)
    expect(up.items.map((i) => i.state)).toEqual(['cancelled', 'cancelled'])
    expect(server.find('GET', '/api/v1/documents')).toHaveLength(0)
    up.clearFinished()
    expect(up.items).toHaveLength(0)
  })

  it('a 401 on upload asks for a new sign-in', async () => {
    const up = useUploadsStore()
    up.add([file('a.pdf', 100)])
    const run = up.start()
    await until(() => FakeXhr.instances.length === 1, 'request')
    FakeXhr.instances[0]!.respond(401, { detail: 'expired', error_code: 'token_expired' })
    await run
    expect(unauthorized).toBe(1)
    expect(up.items[0]!.state).toBe('failed')
    expect(up.items[0]!.message).toMatch(/Sign in again/)
  })
})

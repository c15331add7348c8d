// The pages as a user meets them: real App, router, Pinia, stores and API client; only fetch/XHR faked.
import { afterEach, describe, expect, it } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { createMemoryHistory } from 'vue-router'
import App from '../App.vue'
import { createMyDocs } from '../app'
import { FakeServer, FakeXhr, doc, json, until } from './network'

let wrapper: VueWrapper | null = null
afterEach(() => {
  wrapper?.unmount()
  wrapper = null
  document.body.innerHTML = ''
})

function backend(documents: ReturnType<typeof doc>[]) {
  return new FakeServer()
    .on('GET', '/health', () => json(200, { status: 'ok' }))
    .on('GET', '/health/ready', () => json(503, { status: 'not_ready', error_code: 'not_ready', checks: { mongo: 'ok', storage: 'error' } }))
    .on('GET', '/api/v1/info', () => json(200, { version: '1.2.3', auth_enabled: false, storage_backend: 'azure_blob', max_upload_bytes: 104857600 }))
    .on('GET', '/api/v1/documents', (r) => {
      const q = r.url.searchParams.get('q') ?? ''
      const items = documents.filter((d) => d.name.includes(q))
      return json(200, { items, total: items.length, page: 1, page_size: 20 })
    })
    .install()
}

async function open(path: string) {
  const { router, pinia } = createMyDocs({
    config: { apiBaseUrl: '/api/v1', auth: null },
    history: createMemoryHistory(),
    loadAuthProvider: async () => {
      throw new Error('not used')
    },
  })
  await router.push(path)
  await router.isReady()
  wrapper = mount(App, { global: { plugins: [pinia, router] }, attachTo: document.body })
  await flushPromises()
  return { router }
}

const byText = (selector: string, text: string) =>
  Array.from(document.querySelectorAll<HTMLElement>(selector)).find((e) => e.textContent?.trim() === text)

/** Every form control has an accessible name (a <label> or aria-label). */
function expectLabelledControls() {
  for (const el of document.querySelectorAll<HTMLElement>('input, select, textarea')) {
    const id = el.id
    const named = el.closest('label') || (id && document.querySelector(`label[for="${id}"]`)) || el.getAttribute('aria-label')
    expect(named, `control ${el.outerHTML} has no label`).toBeTruthy()
  }
  for (const b of document.querySelectorAll<HTMLElement>('button')) {
    expect(b.textContent?.trim() || b.getAttribute('aria-label'), `button ${b.outerHTML} has no name`).toBeTruthy()
  }
}

describe('library page', () => {
  it('shows the documents with links, the status region and the upload controls', async () => {
    backend([doc('d1', 'invoice.pdf', { tags: ['2026'] }), doc('d2', 'notes.txt', { storage_mode: 'external', content_type: 'text/plain' })])
    await open('/')
    expect(byText('h1', 'Documents')).toBeTruthy()
    const links = Array.from(document.querySelectorAll<HTMLAnchorElement>('table a')).filter((a) => a.closest('td.name'))
    expect(links.map((a) => [a.textContent, a.getAttribute('href')])).toEqual([
      ['invoice.pdf', '/documents/d1'],
      ['notes.txt', '/documents/d2'],
    ])
    const input = document.getElementById(byText('label', 'Choose files')!.getAttribute('for')!) as HTMLInputElement
    expect(input.type).toBe('file')
    expect(input.multiple).toBe(true)
    expect(byText('button', 'Upload')).toBeTruthy()
    const status = document.querySelector('section[aria-label="Status"]')!
    expect(status.textContent).toMatch(/Health\s*OK/)
    expect(status.textContent).toMatch(/Not ready \(mongo: ok, storage: error\)/)
    expect(status.textContent).toMatch(/Auth\s*Off/)
    expect(status.textContent).toMatch(/Storage backend\s*Azure Blob/)
    expect(document.querySelector('tbody')!.textContent).toMatch(/external/)
    expectLabelledControls()
  })

  it('searches through the URL and shows the empty state', async () => {
    const server = backend([doc('d1', 'invoice.pdf')])
    const { router } = await open('/documents')
    const search = document.querySelector<HTMLInputElement>('input[type="search"]')!
    search.value = 'zzz'
    search.dispatchEvent(new Event('input'))
    document.querySelector('form[role="search"]')!.dispatchEvent(new Event('submit'))
    await until(() => router.currentRoute.value.query.q === 'zzz', 'search in URL')
    await flushPromises()
    expect(server.find('GET', '/api/v1/documents').at(-1)!.url.searchParams.get('q')).toBe('zzz')
    expect(document.body.textContent).toMatch(/No documents match this search/)
  })

  it('shows an error state with a retry', async () => {
    new FakeServer().on('GET', '/api/v1/documents', () => json(500, { detail: 'Database unavailable', error_code: 'db' })).install()
    await open('/')
    const alert = document.querySelector('[role="alert"]')!
    expect(alert.textContent).toMatch(/Could not load the documents: Database unavailable/)
    expect(byText('button', 'Retry')).toBeTruthy()
  })

  it('uploads picked files and lists them afterwards', async () => {
    FakeXhr.install()
    const docs: ReturnType<typeof doc>[] = []
    backend(docs)
    await open('/')
    expect(document.body.textContent).toMatch(/No documents yet/)
    const input = document.getElementById('upload-files') as HTMLInputElement
    Object.defineProperty(input, 'files', { value: [new File(['hello'], 'hello.txt', { type: 'text/plain' })] })
    input.dispatchEvent(new Event('change'))
    await flushPromises()
    byText('button', 'Upload')!.click()
    await until(() => FakeXhr.instances.length === 1, 'upload request')
    FakeXhr.instances[0]!.progress(2, 5)
    await flushPromises()
    const bar = document.querySelector<HTMLProgressElement>('progress[aria-label="Upload progress of hello.txt"]')!
    expect(bar.getAttribute('value')).toBe('40')
    docs.push(doc('d7', 'hello.txt'))
    FakeXhr.instances[0]!.respond(201, { results: [{ filename: 'hello.txt', document: doc('d7', 'hello.txt'), duplicate: false }] })
    await until(() => Boolean(document.querySelector('td.name a')), 'refreshed list')
    expect(document.querySelector('td.name a')!.textContent).toBe('hello.txt')
  })
})

describe('document page', () => {
  it('shows the metadata, edits tags, and deletes after confirmation', async () => {
    let current = doc('d1', 'report.pdf', { tags: ['q3'] })
    const server = backend([current])
      .on('GET', '/api/v1/documents/d1', () => json(200, current))
      .on('PUT', '/api/v1/documents/d1/tags', (r) => {
        current = { ...current, tags: JSON.parse(r.body!).tags }
        return json(200, current)
      })
      .on('DELETE', '/api/v1/documents/d1', () => json(204, null))
    const { router } = await open('/documents/d1')
    expect(byText('h1', 'report.pdf')).toBeTruthy()
    expect(document.querySelector('dl.meta')!.textContent).toMatch(/Storage backendLocal disk/)
    expectLabelledControls()

    const tagInput = document.querySelector<HTMLInputElement>('section[aria-labelledby="tags-heading"] input')!
    tagInput.value = 'urgent, q3'
    tagInput.dispatchEvent(new Event('input'))
    byText('button', 'Add tag')!.click()
    await until(() => server.find('PUT', '/api/v1/documents/d1/tags').length === 1, 'tags saved')
    expect(JSON.parse(server.requests.at(-1)!.body!)).toEqual({ tags: ['q3', 'urgent'] })
    await flushPromises()
    document.querySelector<HTMLButtonElement>('button[aria-label="Remove tag q3"]')!.click()
    await until(() => server.find('PUT', '/api/v1/documents/d1/tags').length === 2, 'tag removed')
    expect(current.tags).toEqual(['urgent'])

    const pageDelete = Array.from(document.querySelectorAll<HTMLButtonElement>('.actions button')).find((b) => b.textContent?.trim() === 'Delete')!
    pageDelete.click()
    await flushPromises()
    const dialog = document.querySelector('dialog')!
    expect(dialog.open).toBe(true)
    expect(dialog.querySelector('h2')!.textContent).toBe('Delete this document?')
    expect(server.find('DELETE', '/api/v1/documents/d1')).toHaveLength(0) // nothing before confirming
    // only the dialog is exposed to assistive technology (one button named Delete, not two)
    expect(pageDelete.closest('[aria-hidden="true"]')).toBeTruthy()
    expect(dialog.closest('[aria-hidden="true"]')).toBeNull()
    expect(document.activeElement?.textContent?.trim()).toBe('Cancel')
    Array.from(dialog.querySelectorAll('button')).find((b) => b.textContent?.trim() === 'Delete')!.click()
    await until(() => router.currentRoute.value.name === 'library', 'back to library')
    expect(server.find('DELETE', '/api/v1/documents/d1')).toHaveLength(1)
    await flushPromises()
    expect(document.querySelector('[aria-hidden="true"]')).toBeNull()
  })

  it('says so when the document does not exist', async () => {
    backend([]).on('GET', '/api/v1/documents/gone', () => json(404, { detail: 'Document not found', error_code: 'document_not_found' }))
    await open('/documents/gone')
    expect(byText('h1', 'Document not found')).toBeTruthy()
  })
})

describe('storage page', () => {
  it('plans a sync and renders the plan', async () => {
    backend([]).on('POST', '/api/v1/sync/plan', () =>
      json(200, { backend: 'azure_blob', restore: [{ id: 'x1', name: 'lost.pdf' }], update: [], missing_files: [], unchanged: 2 }),
    )
    await open('/storage')
    expect(byText('h1', 'Storage')).toBeTruthy()
    expectLabelledControls()
    byText('button', 'Plan sync')!.click()
    await until(() => Boolean(document.querySelector('[aria-label="Plan"]')), 'plan shown')
    const plan = document.querySelector('[aria-label="Plan"]')!.textContent!
    expect(plan).toMatch(/restore\s*1/)
    expect(plan).toMatch(/lost\.pdf/)
    expect(plan).toMatch(/unchanged\s*2/)
    // the sync backend defaults to the server's backend from /api/v1/info
    expect(document.querySelector<HTMLSelectElement>('select')!.value).toBe('azure_blob')
  })
})

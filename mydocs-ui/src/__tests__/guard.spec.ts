// The router guard in both modes, with the real router, Pinia, auth store and API client
// (createMyDocs), an in-memory history and a scripted identity provider in place of Entra ID.
import { afterEach, describe, expect, it } from 'vitest'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { createMemoryHistory } from 'vue-router'
import App from '../App.vue'
import { createMyDocs } from '../app'
import type { AppConfig } from '../config'
import type { AuthProvider } from '../auth/provider'
import { useAuthStore } from '../stores/auth'
import { FakeIdentityProvider } from './auth'
import { FakeServer, doc, json, until } from './network'

const AUTH: AppConfig = {
  apiBaseUrl: '/api/v1',
  auth: { clientId: 'client-1', authority: 'https://login.microsoftonline.com/t', scope: 'api://client-1/.default' },
}
const NO_AUTH: AppConfig = { apiBaseUrl: '/api/v1', auth: null }

let wrapper: VueWrapper | null = null
afterEach(() => {
  wrapper?.unmount()
  wrapper = null
  document.body.innerHTML = ''
})

function start(config: AppConfig, provider?: AuthProvider) {
  const loads: string[] = []
  const app = createMyDocs({
    config,
    history: createMemoryHistory(),
    loadAuthProvider: async (cfg) => {
      loads.push(cfg.clientId)
      if (!provider) throw new Error('no provider in this test')
      return provider
    },
  })
  return { ...app, loads, auth: useAuthStore(app.pinia) }
}

describe('guard without VITE_ENTRA_CLIENT_ID', () => {
  it('lets every route through and never loads the identity provider', async () => {
    const { router, loads, auth } = start(NO_AUTH)
    await router.push('/storage')
    expect(router.currentRoute.value.fullPath).toBe('/storage')
    await router.push('/documents/abc')
    expect(router.currentRoute.value.name).toBe('document')
    expect(auth.enabled).toBe(false)
    expect(auth.signedIn).toBe(true)
    expect(await auth.getToken()).toBeNull()
    expect(loads).toEqual([])
  })

  it('sends /login to the library (there is nothing to sign in to)', async () => {
    const { router } = start(NO_AUTH)
    await router.push('/login?redirect=/storage')
    expect(router.currentRoute.value.name).toBe('library')
  })
})

describe('guard with sign-in configured', () => {
  it('sends a signed-out user to /login with the page they asked for, and starts sign-in on click', async () => {
    const idp = new FakeIdentityProvider()
    const { router, loads, auth } = start(AUTH, idp)
    await router.push('/storage?x=1')
    expect(router.currentRoute.value.name).toBe('login')
    expect(router.currentRoute.value.query.redirect).toBe('/storage?x=1')
    expect(loads).toEqual(['client-1'])
    expect(idp.signIns).toEqual([]) // nothing happens until the user asks
    await auth.signIn('/storage?x=1')
    expect(idp.signIns).toEqual(['/storage?x=1'])
  })

  it('lands on the requested page after the sign-in redirect comes back', async () => {
    const idp = new FakeIdentityProvider({ account: FakeIdentityProvider.account(), returnPath: '/documents/d42' })
    const { router, auth } = start(AUTH, idp)
    await router.push('/') // the redirect URI is the site root
    expect(router.currentRoute.value.fullPath).toBe('/documents/d42')
    expect(auth.account?.name).toBe('Ada Lovelace')
    await router.push('/storage')
    expect(router.currentRoute.value.fullPath).toBe('/storage') // the return path is used once
  })

  it('sends a signed-in user away from /login to the redirect target, never to another site', async () => {
    const idp = new FakeIdentityProvider({ account: FakeIdentityProvider.account(), returnPath: null })
    const { router } = start(AUTH, idp)
    await router.push('/login?redirect=/storage')
    expect(router.currentRoute.value.fullPath).toBe('/storage')
    await router.push('/login?redirect=//evil.example/steal')
    expect(router.currentRoute.value.fullPath).toBe('/')
  })

  it('shows the provider failure on the login page instead of looping', async () => {
    const { router, auth } = start(AUTH) // the loader throws
    await router.push('/')
    expect(router.currentRoute.value.name).toBe('login')
    expect(auth.error).toMatch(/Sign-in is unavailable: no provider in this test/)
    await expect(auth.signIn('/')).rejects.toThrow(/Sign-in is unavailable/)
  })

  it('a 401 from the API sends the user to /login once, keeping the page, with no provider logout', async () => {
    const server = new FakeServer()
      .on('GET', '/api/v1/documents/d1', (r) =>
        r.headers.get('Authorization') ? json(401, { detail: 'invalid audience', error_code: 'invalid_token' }) : json(500, {}),
      )
      .install()
    const idp = new FakeIdentityProvider({ account: FakeIdentityProvider.account(), returnPath: null })
    const { router, api, auth } = start(AUTH, idp)
    await router.push('/storage')
    await expect(api.getDocument('d1')).rejects.toMatchObject({ status: 401 })
    await until(() => router.currentRoute.value.name === 'login', 'login route')
    expect(router.currentRoute.value.query.redirect).toBe('/storage')
    expect(auth.sessionExpired).toBe(true)
    expect(auth.signedIn).toBe(false)
    expect(idp.tokenCalls).toEqual([false, true]) // one silent renewal, then give up
    expect(idp.signOuts).toBe(0)
    expect(idp.signIns).toEqual([])
    // further 401s while on /login do not navigate again
    await expect(api.getDocument('d1')).rejects.toMatchObject({ status: 401 })
    expect(router.currentRoute.value.query.redirect).toBe('/storage')
    expect(server.find('GET', '/api/v1/documents/d1')).toHaveLength(2)
  })

  it('attaches the silently renewed token to API calls', async () => {
    const server = new FakeServer().on('GET', '/api/v1/documents/d1', () => json(200, doc('d1', 'a.pdf'))).install()
    const idp = new FakeIdentityProvider({ account: FakeIdentityProvider.account(), returnPath: null })
    const { router, api } = start(AUTH, idp)
    await router.push('/')
    await api.getDocument('d1')
    expect(server.requests[0]!.headers.get('Authorization')).toBe('Bearer token-1')
    idp.interactionRequired = true
    await expect(api.getDocument('d1')).rejects.toMatchObject({ errorCode: 'sign_in_required' })
    await until(() => router.currentRoute.value.name === 'login', 'login route')
  })
})

describe('login page', () => {
  it('after a rejected token says why, and signs in again only on click, back to the same page', async () => {
    new FakeServer()
      .on('GET', '/health', () => json(200, { status: 'ok' }))
      .on('GET', '/health/ready', () => json(200, { status: 'ready', checks: {} }))
      .on('GET', '/api/v1/info', () => json(401, { detail: 'token expired', error_code: 'token_expired' }))
      .on('GET', '/api/v1/documents', () => json(401, { detail: 'token expired', error_code: 'token_expired' }))
      .install()
    const idp = new FakeIdentityProvider({ account: FakeIdentityProvider.account(), returnPath: null })
    const { router, pinia } = start(AUTH, idp)
    await router.push('/?q=tax')
    wrapper = mount(App, { global: { plugins: [pinia, router] }, attachTo: document.body })
    await until(() => router.currentRoute.value.name === 'login', 'login route')
    await flushPromises()
    expect(router.currentRoute.value.query.redirect).toBe('/?q=tax')
    const alert = Array.from(document.querySelectorAll('[role="alert"]')).map((e) => e.textContent).join(' ')
    expect(alert).toMatch(/session has expired or was rejected/)
    expect(idp.signIns).toEqual([])
    const button = Array.from(document.querySelectorAll('button')).find((b) => b.textContent?.trim() === 'Sign in with Microsoft')!
    button.click()
    await until(() => idp.signIns.length === 1, 'sign-in started')
    expect(idp.signIns).toEqual(['/?q=tax'])
    expect(idp.signOuts).toBe(0)
  })

  it('shows who is signed in and signs out through the provider', async () => {
    new FakeServer()
      .on('GET', '/api/v1/documents', () => json(200, { items: [], total: 0, page: 1, page_size: 20 }))
      .on('GET', '/api/v1/info', () => json(200, { version: '1', auth_enabled: true, storage_backend: 'local', max_upload_bytes: 1 }))
      .install()
    const idp = new FakeIdentityProvider({ account: FakeIdentityProvider.account('Grace Hopper'), returnPath: null })
    const { router, pinia } = start(AUTH, idp)
    await router.push('/')
    wrapper = mount(App, { global: { plugins: [pinia, router] }, attachTo: document.body })
    await flushPromises()
    expect(document.querySelector('.user-name')?.textContent).toBe('Grace Hopper')
    await until(() => /Auth\s*On/.test(document.querySelector('section[aria-label="Status"]')?.textContent ?? ''), 'status auth on')
    Array.from(document.querySelectorAll('button')).find((b) => b.textContent?.trim() === 'Sign out')!.click()
    await until(() => idp.signOuts === 1, 'signed out')
  })
})

// The real MSAL adapter (src/auth/msal.ts) on the real @azure/msal-browser, without Entra ID:
// what can be checked offline is start-up, the signed-out state and the authorize redirect it builds.
import { describe, expect, it, vi } from 'vitest'
import { createMsalProvider } from '../auth/msal'
import { SignInRequiredError } from '../api/client'

const config = {
  clientId: '11111111-2222-3333-4444-555555555555',
  authority: 'https://login.microsoftonline.com/00000000-0000-0000-0000-0000000000aa',
  scope: 'api://11111111-2222-3333-4444-555555555555/.default',
}

describe('MSAL provider', () => {
  it('starts signed out without a redirect response and refuses to make a token', async () => {
    const provider = await createMsalProvider(config)
    expect(await provider.initialize()).toEqual({ account: null, returnPath: null })
    await expect(provider.acquireToken(false)).rejects.toBeInstanceOf(SignInRequiredError)
  })

  it('redirects to the authority with PKCE, the API scope, the site root and the asked path in state', async () => {
    const provider = await createMsalProvider(config)
    await provider.initialize()
    const assign = vi.fn()
    vi.spyOn(window.location, 'assign').mockImplementation(assign)
    // loginRedirect then waits for the page to unload, which never happens here: do not await it
    void provider.signIn('/storage?x=1')
    await vi.waitFor(() => expect(assign).toHaveBeenCalledTimes(1), { timeout: 4000 })
    const url = new URL(assign.mock.calls[0]![0] as string)
    expect(url.origin + url.pathname).toBe(`${config.authority}/oauth2/v2.0/authorize`)
    expect(url.searchParams.get('client_id')).toBe(config.clientId)
    expect(url.searchParams.get('scope')?.split(' ')).toContain(config.scope)
    expect(url.searchParams.get('redirect_uri')).toBe(`${window.location.origin}/`)
    expect(url.searchParams.get('code_challenge_method')).toBe('S256')
    expect(url.searchParams.get('state')).toMatch(/\|\/storage\?x=1$/) // MSAL's own state, then ours
  })
})

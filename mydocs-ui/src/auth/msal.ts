// MSAL (Entra ID) behind the AuthProvider interface. Imported dynamically, and only when
// VITE_ENTRA_CLIENT_ID is set, so builds without sign-in never download it.
import {
  BrowserCacheLocation,
  InteractionRequiredAuthError,
  PublicClientApplication,
  type AccountInfo,
} from '@azure/msal-browser'
import { SignInRequiredError } from '../api/client'
import type { AuthConfig } from '../config'
import { safeReturnPath, type AuthAccount, type AuthProvider } from './provider'

const toAccount = (a: AccountInfo | null): AuthAccount | null =>
  a ? { name: a.name || a.username, username: a.username } : null

export async function createMsalProvider(config: AuthConfig): Promise<AuthProvider> {
  const origin = window.location.origin
  const pca = new PublicClientApplication({
    auth: {
      clientId: config.clientId,
      authority: config.authority,
      // Register this as a "Single-page application" redirect URI in the app registration.
      redirectUri: `${origin}/`,
      postLogoutRedirectUri: `${origin}/`,
    },
    // Tokens live for the browser tab only, never in localStorage.
    cache: { cacheLocation: BrowserCacheLocation.SessionStorage },
  })
  await pca.initialize()
  const scopes = [config.scope]

  return {
    async initialize() {
      const result = await pca.handleRedirectPromise({ navigateToLoginRequestUrl: false })
      if (result?.account) {
        pca.setActiveAccount(result.account)
      } else if (!pca.getActiveAccount()) {
        const [only, ...others] = pca.getAllAccounts()
        if (only && others.length === 0) pca.setActiveAccount(only)
      }
      return {
        account: toAccount(pca.getActiveAccount()),
        returnPath: result ? safeReturnPath(result.state) : null,
      }
    },

    async acquireToken(forceRefresh) {
      const account = pca.getActiveAccount()
      if (!account) throw new SignInRequiredError('Not signed in')
      try {
        const result = await pca.acquireTokenSilent({ scopes, account, forceRefresh })
        return result.accessToken
      } catch (e) {
        if (e instanceof InteractionRequiredAuthError) throw new SignInRequiredError(e.message)
        throw e
      }
    },

    async signIn(returnPath) {
      await pca.loginRedirect({ scopes, state: safeReturnPath(returnPath) })
    },

    async signOut() {
      await pca.logoutRedirect({ account: pca.getActiveAccount() ?? undefined })
    },
  }
}

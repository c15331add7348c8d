// What the SPA needs from an identity provider; MSAL implements it in ./msal.ts (loaded on demand).

export interface AuthAccount {
  name: string
  username: string
}

export interface RedirectOutcome {
  /** The signed-in account after handling a redirect response (or from the cache), else null. */
  account: AuthAccount | null
  /** The in-app path the user asked for before signing in, when this load completes a sign-in. */
  returnPath: string | null
}

export interface AuthProvider {
  /** Completes a sign-in redirect if the URL carries one. Called once per page load. */
  initialize(): Promise<RedirectOutcome>
  /** A valid access token for the API, renewed silently; throws SignInRequiredError when it cannot. */
  acquireToken(forceRefresh: boolean): Promise<string>
  /** Navigates away to the identity provider; comes back to `returnPath` after sign-in. */
  signIn(returnPath: string): Promise<void>
  signOut(): Promise<void>
}

export type AuthProviderLoader = (config: import('../config').AuthConfig) => Promise<AuthProvider>

/** Only in-app absolute paths are accepted as a return target (no open redirect). */
export function safeReturnPath(value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || value.includes('\\')) return '/'
  if (value === '/login' || value.startsWith('/login?') || value.startsWith('/login#')) return '/'
  return value
}

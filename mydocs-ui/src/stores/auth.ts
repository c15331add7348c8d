import { defineStore } from 'pinia'
import { computed, ref, shallowRef } from 'vue'
import { SignInRequiredError } from '../api/client'
import type { AuthConfig } from '../config'
import type { AuthAccount, AuthProvider, AuthProviderLoader } from '../auth/provider'

export const useAuthStore = defineStore('auth', () => {
  const config = shallowRef<AuthConfig | null>(null)
  const loader = shallowRef<AuthProviderLoader | null>(null)
  const provider = shallowRef<AuthProvider | null>(null)
  const account = ref<AuthAccount | null>(null)
  const error = ref<string | null>(null)
  /** Set when the API rejected our token; the login page then says why. */
  const sessionExpired = ref(false)
  let initPromise: Promise<void> | null = null
  let returnPath: string | null = null

  const enabled = computed(() => config.value !== null)
  const signedIn = computed(() => !enabled.value || account.value !== null)

  /** Sign-in settings (null = auth bypassed) and how to load the provider (MSAL, lazily). */
  function configure(auth: AuthConfig | null, load: AuthProviderLoader): void {
    config.value = auth
    loader.value = load
    initPromise = null
  }

  /** Loads the provider and completes a pending redirect; runs once, every caller awaits the same. */
  function init(): Promise<void> {
    initPromise ??= (async () => {
      const cfg = config.value
      if (!cfg || !loader.value) return
      try {
        provider.value = await loader.value(cfg)
        const outcome = await provider.value.initialize()
        account.value = outcome.account
        returnPath = outcome.returnPath
        if (outcome.account) sessionExpired.value = false
      } catch (e) {
        error.value = `Sign-in is unavailable: ${(e as Error)?.message || String(e)}`
      }
    })()
    return initPromise
  }

  /** The path the user asked for before a sign-in redirect, handed out once. */
  function takeReturnPath(): string | null {
    const p = returnPath
    returnPath = null
    return p
  }

  async function getToken(options: { forceRefresh?: boolean } = {}): Promise<string | null> {
    if (!enabled.value) return null
    await init()
    if (!provider.value || !account.value) throw new SignInRequiredError('Not signed in')
    return provider.value.acquireToken(options.forceRefresh ?? false)
  }

  /** The API refused the token: forget the session locally (no provider logout, so no loop). */
  function expireSession(): void {
    if (!enabled.value) return
    account.value = null
    sessionExpired.value = true
  }

  async function signIn(target: string): Promise<void> {
    await init()
    if (!provider.value) throw new Error(error.value ?? 'Sign-in is unavailable')
    error.value = null
    await provider.value.signIn(target)
  }

  async function signOut(): Promise<void> {
    if (!provider.value) return
    account.value = null
    await provider.value.signOut()
  }

  return {
    enabled, signedIn, account, error, sessionExpired,
    configure, init, takeReturnPath, getToken, expireSession, signIn, signOut,
  }
})

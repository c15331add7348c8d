// A scripted identity provider standing in for Entra ID (the real one is MSAL in src/auth/msal.ts).
import type { AuthAccount, AuthProvider, RedirectOutcome } from '../auth/provider'
import { SignInRequiredError } from '../api/client'

export class FakeIdentityProvider implements AuthProvider {
  signIns: string[] = []
  signOuts = 0
  tokenCalls: boolean[] = []
  tokens = ['token-1', 'token-2', 'token-3']
  interactionRequired = false

  constructor(private outcome: RedirectOutcome = { account: null, returnPath: null }) {}

  static account(name = 'Ada Lovelace'): AuthAccount {
    return { name, username: 'ada@example.com' }
  }

  async initialize(): Promise<RedirectOutcome> {
    return this.outcome
  }
  async acquireToken(forceRefresh: boolean): Promise<string> {
    this.tokenCalls.push(forceRefresh)
    if (this.interactionRequired) throw new SignInRequiredError('interaction required')
    return this.tokens[Math.min(this.tokenCalls.length - 1, this.tokens.length - 1)]!
  }
  async signIn(returnPath: string): Promise<void> {
    this.signIns.push(returnPath)
  }
  async signOut(): Promise<void> {
    this.signOuts++
  }
}

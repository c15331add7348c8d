// The application's ApiClient, installed once by main.ts (see createMyDocs in app.ts).
import type { ApiClient } from './client'

let current: ApiClient | null = null

export function installApi(client: ApiClient): void {
  current = client
}

export function useApi(): ApiClient {
  if (!current) throw new Error('The API client is not installed (createMyDocs was not called)')
  return current
}

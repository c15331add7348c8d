// The one module that reads import.meta.env (build-time values baked in by Vite); everything else
// imports `config` from here.

export interface AppConfig {
  /** API base without a trailing slash, e.g. `/api/v1` or `https://api.example.com/api/v1`. */
  apiBaseUrl: string
  /** Sign-in settings, or null when VITE_ENTRA_CLIENT_ID is empty (auth bypassed, spec 9.2). */
  auth: AuthConfig | null
}

export interface AuthConfig {
  clientId: string
  authority: string
  /** Scope of the access token sent to the API. */
  scope: string
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

type EnvLike = Partial<Record<'VITE_API_BASE_URL' | 'VITE_ENTRA_CLIENT_ID' | 'VITE_ENTRA_AUTHORITY' | 'VITE_ENTRA_API_SCOPE', string>>

const clean = (v: string | undefined): string => (v ?? '').trim()

/** Validates the build-time environment; an empty string counts as unset. */
export function readConfig(env: EnvLike): AppConfig {
  const problems: string[] = []
  const rawBase = clean(env.VITE_API_BASE_URL) || '/api/v1'
  if (rawBase.startsWith('//')) {
    problems.push('VITE_API_BASE_URL must not be protocol-relative (//host)')
  } else if (!rawBase.startsWith('/') && !/^https?:\/\/[^/]+/.test(rawBase)) {
    problems.push(`VITE_API_BASE_URL must be a path starting with / or an http(s) URL, got "${rawBase}"`)
  }
  // Without the trailing slash; "/" (API at the root) becomes "".
  const apiBaseUrl = rawBase.replace(/\/+$/, '')

  let auth: AuthConfig | null = null
  const clientId = clean(env.VITE_ENTRA_CLIENT_ID)
  if (clientId) {
    const authority = clean(env.VITE_ENTRA_AUTHORITY).replace(/\/+$/, '')
    if (!authority) {
      problems.push('VITE_ENTRA_AUTHORITY is required when VITE_ENTRA_CLIENT_ID is set (e.g. https://login.microsoftonline.com/<tenant-id>)')
    } else if (!/^https:\/\/[^/]+/.test(authority)) {
      problems.push(`VITE_ENTRA_AUTHORITY must be an https URL, got "${authority}"`)
    }
    auth = { clientId, authority, scope: clean(env.VITE_ENTRA_API_SCOPE) || `api://${clientId}/.default` }
  }
  if (problems.length) throw new ConfigError(problems.join('\n'))
  return { apiBaseUrl, auth }
}

let cached: AppConfig | undefined

/** The application's configuration (validated once; throws ConfigError with every problem). */
export function getConfig(): AppConfig {
  cached ??= readConfig(import.meta.env)
  return cached
}

/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Base URL of the MyDocs API; default `/api/v1` (same origin, proxied by nginx). */
  readonly VITE_API_BASE_URL?: string
  /** Entra ID app registration client id; empty = sign-in disabled (spec 9.2). */
  readonly VITE_ENTRA_CLIENT_ID?: string
  /** Entra ID authority, e.g. https://login.microsoftonline.com/<tenant-id>. */
  readonly VITE_ENTRA_AUTHORITY?: string
  /** Access-token scope; default api://<client id>/.default. */
  readonly VITE_ENTRA_API_SCOPE?: string
}

interface ImportMeta {
  readonly env: ImportMetaEnv
}

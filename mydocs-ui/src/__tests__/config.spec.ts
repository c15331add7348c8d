import { describe, expect, it } from 'vitest'
import { ConfigError, readConfig } from '../config'

describe('readConfig', () => {
  it('defaults the API base to /api/v1 and turns sign-in off without a client id', () => {
    expect(readConfig({})).toEqual({ apiBaseUrl: '/api/v1', auth: null })
    expect(readConfig({ VITE_API_BASE_URL: '', VITE_ENTRA_CLIENT_ID: '  ' })).toEqual({ apiBaseUrl: '/api/v1', auth: null })
  })

  it('keeps a custom base without its trailing slash', () => {
    expect(readConfig({ VITE_API_BASE_URL: 'https://api.example.com/mydocs/api/v1/' }).apiBaseUrl).toBe(
      'https://api.example.com/mydocs/api/v1',
    )
    expect(readConfig({ VITE_API_BASE_URL: '/' }).apiBaseUrl).toBe('')
  })

  it('builds the default scope from the client id, or takes VITE_ENTRA_API_SCOPE', () => {
    const auth = readConfig({
      VITE_ENTRA_CLIENT_ID: '11111111-2222-3333-4444-555555555555',
      VITE_ENTRA_AUTHORITY: 'https://login.microsoftonline.com/tenant-x/',
    }).auth
    expect(auth).toEqual({
      clientId: '11111111-2222-3333-4444-555555555555',
      authority: 'https://login.microsoftonline.com/tenant-x',
      scope: 'api://11111111-2222-3333-4444-555555555555/.default',
    })
    expect(
      readConfig({ VITE_ENTRA_CLIENT_ID: 'c', VITE_ENTRA_AUTHORITY: 'https://login.example', VITE_ENTRA_API_SCOPE: 'api://other/read' }).auth
        ?.scope,
    ).toBe('api://other/read')
  })

  it('refuses bad values with one message per problem', () => {
    expect(() => readConfig({ VITE_ENTRA_CLIENT_ID: 'c' })).toThrow(/VITE_ENTRA_AUTHORITY is required/)
    expect(() => readConfig({ VITE_ENTRA_CLIENT_ID: 'c', VITE_ENTRA_AUTHORITY: 'http://login.example' })).toThrow(/must be an https URL/)
    expect(() => readConfig({ VITE_API_BASE_URL: 'api/v1' })).toThrow(ConfigError)
    expect(() => readConfig({ VITE_API_BASE_URL: '//evil.example/api' })).toThrow(/protocol-relative/)
    let message = ''
    try {
      readConfig({ VITE_API_BASE_URL: 'ftp://x', VITE_ENTRA_CLIENT_ID: 'c' })
    } catch (e) {
      message = (e as Error).message
    }
    expect(message.split('\n')).toEqual([expect.stringMatching(/^VITE_API_BASE_URL/), expect.stringMatching(/^VITE_ENTRA_AUTHORITY/)])
  })
})

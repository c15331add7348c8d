// Assembles the application: Pinia, the router with its guard, the auth store and the API client.
import { createApp, type App as VueApp } from 'vue'
import { createPinia, type Pinia } from 'pinia'
import type { Router, RouterHistory } from 'vue-router'
import App from './App.vue'
import { ApiClient } from './api/client'
import { installApi } from './api'
import type { AppConfig } from './config'
import type { AuthProviderLoader } from './auth/provider'
import { createAppRouter } from './router'
import { useAuthStore } from './stores/auth'

export interface MyDocs {
  app: VueApp
  router: Router
  pinia: Pinia
  api: ApiClient
}

export interface MyDocsOptions {
  config: AppConfig
  history: RouterHistory
  loadAuthProvider: AuthProviderLoader
}

export function createMyDocs({ config, history, loadAuthProvider }: MyDocsOptions): MyDocs {
  const app = createApp(App)
  const pinia = createPinia()
  app.use(pinia)
  const auth = useAuthStore(pinia)
  auth.configure(config.auth, loadAuthProvider)

  const router = createAppRouter(history)
  const api = new ApiClient({
    baseUrl: config.apiBaseUrl,
    auth: {
      getToken: (options) => auth.getToken(options),
      onUnauthorized: () => {
        if (!auth.enabled) return
        auth.expireSession()
        const current = router.currentRoute.value
        if (current.name !== 'login') {
          void router.push({ name: 'login', query: { redirect: current.fullPath } })
        }
      },
    },
  })
  installApi(api)
  app.use(router)
  return { app, router, pinia, api }
}

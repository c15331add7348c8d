import { createWebHistory } from 'vue-router'
import './styles.css'
import { ConfigError, getConfig } from './config'
import { createMyDocs } from './app'

function showFatal(message: string): void {
  const root = document.getElementById('app')
  if (!root) return
  root.innerHTML = ''
  const box = document.createElement('main')
  box.className = 'fatal'
  const h = document.createElement('h1')
  h.textContent = 'MyDocs cannot start'
  const p = document.createElement('pre')
  p.setAttribute('role', 'alert')
  p.textContent = message
  box.append(h, p)
  root.append(box)
}

try {
  const config = getConfig()
  const { app } = createMyDocs({
    config,
    history: createWebHistory(),
    // MSAL is a separate chunk, fetched only when sign-in is configured.
    loadAuthProvider: async (auth) => (await import('./auth/msal')).createMsalProvider(auth),
  })
  app.mount('#app')
} catch (e) {
  showFatal(e instanceof ConfigError ? `Build configuration problem:\n${e.message}` : String(e))
  throw e
}

import { createRouter, type RouterHistory, type Router } from 'vue-router'
import LibraryView from '../views/LibraryView.vue'
import { safeReturnPath } from '../auth/provider'
import { useAuthStore } from '../stores/auth'

declare module 'vue-router' {
  interface RouteMeta {
    /** Reachable without signing in. */
    public?: boolean
    title?: string
  }
}

export function createAppRouter(history: RouterHistory): Router {
  const router = createRouter({
    history,
    routes: [
      { path: '/', alias: '/documents', name: 'library', component: LibraryView, meta: { title: 'Documents' } },
      { path: '/documents/:id', name: 'document', component: () => import('../views/DocumentView.vue'), meta: { title: 'Document' } },
      { path: '/storage', name: 'storage', component: () => import('../views/StorageView.vue'), meta: { title: 'Storage' } },
      { path: '/login', name: 'login', component: () => import('../views/LoginView.vue'), meta: { public: true, title: 'Sign in' } },
      { path: '/:pathMatch(.*)*', name: 'not-found', component: () => import('../views/NotFoundView.vue'), meta: { public: true, title: 'Not found' } },
    ],
  })

  router.beforeEach(async (to) => {
    const auth = useAuthStore()
    // Spec 9.2: without VITE_ENTRA_CLIENT_ID the guard is bypassed entirely.
    if (!auth.enabled) return to.name === 'login' ? { name: 'library' } : true

    await auth.init()
    // Back from the identity provider: go where the user was heading.
    const back = auth.takeReturnPath()
    if (back && back !== to.fullPath) return back

    if (to.name === 'login') return auth.signedIn ? safeReturnPath(to.query.redirect) : true
    if (to.meta.public || auth.signedIn) return true
    return { name: 'login', query: { redirect: to.fullPath } }
  })

  router.afterEach((to) => {
    document.title = to.meta.title ? `${to.meta.title} · MyDocs` : 'MyDocs'
  })

  return router
}

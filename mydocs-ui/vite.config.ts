import { fileURLToPath, URL } from 'node:url'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// The dev server proxies the backend paths the way deploy/nginx.conf does in the image,
// so `npm run dev` talks to a backend on MYDOCS_DEV_BACKEND (default http://127.0.0.1:8000).
const backend = process.env.MYDOCS_DEV_BACKEND || 'http://127.0.0.1:8000'

export default defineConfig({
  plugins: [vue()],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  server: {
    host: '127.0.0.1',
    proxy: {
      '/api': { target: backend, changeOrigin: false },
      '/health': { target: backend, changeOrigin: false },
    },
  },
  preview: { host: '127.0.0.1' },
  build: {
    target: 'es2022',
    sourcemap: false,
    // no gzip pass over every chunk just to print its size: nothing in the image uses it, and the
    // bundle budget (test/bench/ui_bundle_budget.mjs) measures gzip itself
    reportCompressedSize: false,
  },
})

#!/usr/bin/env node
// Prints the SPA's bundle figures from a Vite build (default mydocs-ui/dist) and enforces the budget:
// the JavaScript a first visit downloads (the entry script and every chunk it imports statically,
// i.e. the modulepreload links in index.html) must stay <= 250 KB gzip, and MSAL must not be part of
// it (it is loaded with a dynamic import only when VITE_ENTRA_CLIENT_ID is set).
// Usage: node test/bench/ui_bundle_budget.mjs [DIST_DIR] [--json]
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join, resolve, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'

const BUDGET_BYTES = 250 * 1000 // "250 KB"
const here = dirname(fileURLToPath(import.meta.url))
const args = process.argv.slice(2)
const asJson = args.includes('--json')
const dist = resolve(args.find((a) => !a.startsWith('--')) ?? join(here, '../../mydocs-ui/dist'))

let html
try {
  html = readFileSync(join(dist, 'index.html'), 'utf8')
} catch {
  console.error(`ui_bundle_budget: no index.html in ${dist} (run "npm run build" in mydocs-ui first)`)
  process.exit(2)
}

const attr = (tag, name) => new RegExp(`${name}="([^"]+)"`).exec(tag)?.[1]
const entry = [...html.matchAll(/<script\b[^>]*type="module"[^>]*>/g)].map((m) => attr(m[0], 'src')).filter(Boolean)
const preload = [...html.matchAll(/<link\b[^>]*rel="modulepreload"[^>]*>/g)].map((m) => attr(m[0], 'href')).filter(Boolean)
if (!entry.length) {
  console.error('ui_bundle_budget: index.html has no module script')
  process.exit(2)
}
const initial = [...new Set([...entry, ...preload])].map((p) => p.replace(/^\//, ''))

const measure = (rel) => {
  const buf = readFileSync(join(dist, rel))
  return { file: rel, bytes: buf.length, gzip: gzipSync(buf, { level: 9 }).length, text: buf.toString('utf8') }
}
const initialFiles = initial.map(measure)
const allJs = readdirSync(join(dist, 'assets'))
  .filter((f) => f.endsWith('.js'))
  .map((f) => measure(`assets/${f}`))
const lazy = allJs.filter((f) => !initial.includes(f.file))
const isMsal = (f) => f.text.includes('PublicClientApplication') || f.text.includes('msal.js.browser')
const msalInitial = initialFiles.filter(isMsal)
const msalLazy = lazy.filter(isMsal)
const css = readdirSync(join(dist, 'assets')).filter((f) => f.endsWith('.css')).map((f) => measure(`assets/${f}`))

const sum = (xs, k) => xs.reduce((n, x) => n + x[k], 0)
const kb = (n) => `${(n / 1000).toFixed(1)} KB`
const result = {
  dist,
  budget_gzip_bytes: BUDGET_BYTES,
  initial_js: { files: initialFiles.map(({ file, bytes, gzip }) => ({ file, bytes, gzip })), bytes: sum(initialFiles, 'bytes'), gzip: sum(initialFiles, 'gzip') },
  lazy_js: { files: lazy.map(({ file, bytes, gzip }) => ({ file, bytes, gzip })), bytes: sum(lazy, 'bytes'), gzip: sum(lazy, 'gzip') },
  css: { bytes: sum(css, 'bytes'), gzip: sum(css, 'gzip') },
  msal: { in_initial: msalInitial.map((f) => f.file), lazy_chunks: msalLazy.map((f) => f.file) },
}

if (asJson) {
  console.log(JSON.stringify(result, null, 2))
} else {
  console.log(`SPA bundle (${dist})`)
  console.log('  initial JavaScript (entry + static imports):')
  for (const f of result.initial_js.files) console.log(`    ${f.file.padEnd(48)} ${kb(f.bytes).padStart(10)}  gzip ${kb(f.gzip).padStart(9)}`)
  console.log(`    ${'total'.padEnd(48)} ${kb(result.initial_js.bytes).padStart(10)}  gzip ${kb(result.initial_js.gzip).padStart(9)}  (budget ${kb(BUDGET_BYTES)})`)
  console.log(`  lazy JavaScript: ${lazy.length} chunk(s), ${kb(result.lazy_js.bytes)}, gzip ${kb(result.lazy_js.gzip)}`)
  for (const f of msalLazy) console.log(`    MSAL chunk ${f.file}: ${kb(f.bytes)}, gzip ${kb(f.gzip)} (loaded only when sign-in is configured)`)
  console.log(`  CSS: ${kb(result.css.bytes)}, gzip ${kb(result.css.gzip)}`)
}

const problems = []
if (result.initial_js.gzip > BUDGET_BYTES) problems.push(`initial JavaScript is ${kb(result.initial_js.gzip)} gzip, over the ${kb(BUDGET_BYTES)} budget`)
if (msalInitial.length) problems.push(`MSAL is in the initial JavaScript (${msalInitial.map((f) => f.file).join(', ')}); it must be a dynamic import`)
if (!msalLazy.length) problems.push('no lazy MSAL chunk found: sign-in would not work when configured')
if (problems.length) {
  for (const p of problems) console.error(`ui_bundle_budget: FAIL: ${p}`)
  process.exit(1)
}
console.log('ui_bundle_budget: OK')

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB']

export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return '?'
  let v = n
  let u = 0
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024
    u++
  }
  return u === 0 ? `${v} B` : `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${UNITS[u]}`
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return ''
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })
}

export const backendLabel = (b: string): string => (b === 'azure_blob' ? 'Azure Blob' : b === 'local' ? 'Local disk' : b)

/** Short type from a MIME type: "application/pdf" -> "PDF". */
export function typeLabel(contentType: string | null | undefined, name = ''): string {
  const ext = /\.([A-Za-z0-9]{1,8})$/.exec(name)?.[1]
  if (ext) return ext.toUpperCase()
  if (!contentType) return 'File'
  const sub = contentType.split(';')[0]?.split('/')[1] ?? contentType
  return sub.replace(/^x-/, '').toUpperCase()
}

/** Tags from "a, b ,c" (trimmed, de-duplicated, no empties). */
export function parseTags(text: string): string[] {
  return [...new Set(text.split(',').map((t) => t.trim()).filter(Boolean))]
}

/** Saves a Blob under a file name through a temporary object URL (the bytes came with the token). */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = filename
  a.rel = 'noopener'
  document.body.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 30_000)
}

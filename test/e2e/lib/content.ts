// Deterministic test content: a seeded PRNG (xorshift128) generates any size as a stream of chunks,
// so a 100 MiB body is never held in memory, and the same (seed, size) always yields the same bytes.
import { createHash, randomBytes } from "node:crypto"
import { Readable } from "node:stream"

export const MiB = 1024 * 1024
const CHUNK = 1 * MiB

/** A fresh seed per run so uploads never collide with existing documents (the backend dedups by sha256). */
export function freshSeed(): string {
  return randomBytes(12).toString("hex")
}

function seedState(seed: string): Uint32Array {
  const h = createHash("sha256").update(`mydocs-e2e:${seed}`).digest()
  const s = new Uint32Array([h.readUInt32LE(0), h.readUInt32LE(4), h.readUInt32LE(8), h.readUInt32LE(12)])
  if (s.every((x) => x === 0)) s[0] = 1
  return s
}

/** Yields `size` bytes in chunks of at most 1 MiB. */
export function* chunks(seed: string, size: number): Generator<Buffer> {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`size must be a non-negative integer, got ${size}`)
  const s = seedState(seed)
  let [x, y, z, w] = s
  let left = size
  while (left > 0) {
    const n = Math.min(CHUNK, left)
    const words = new Uint32Array(Math.ceil(n / 4))
    for (let i = 0; i < words.length; i++) {
      const t = x ^ (x << 11)
      x = y
      y = z
      z = w
      w = (w ^ (w >>> 19) ^ (t ^ (t >>> 8))) >>> 0
      words[i] = w
    }
    yield Buffer.from(words.buffer, 0, n)
    left -= n
  }
}

export function stream(seed: string, size: number): Readable {
  return Readable.from(chunks(seed, size), { objectMode: false })
}

/** sha256 (hex) of the content, computed by streaming it. */
export function sha256Of(seed: string, size: number): string {
  const h = createHash("sha256")
  for (const c of chunks(seed, size)) h.update(c)
  return h.digest("hex")
}

/** The whole content as one Buffer: only for small sizes (browser uploads, Range checks). */
export function bytes(seed: string, size: number): Buffer {
  if (size > 16 * MiB) throw new RangeError("bytes() is for small contents; stream large ones")
  return Buffer.concat([...chunks(seed, size)])
}

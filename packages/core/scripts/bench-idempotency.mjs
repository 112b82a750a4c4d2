// Claims per second of MemoryIdempotencyStore, per 100k claims, past its 100k-key bound:
// a flat line means eviction is O(1). Build first; run: node packages/core/scripts/bench-idempotency.mjs [dist dir]
import { resolve } from 'node:path'

const dist = resolve(process.argv[2] ?? new URL('../dist', import.meta.url).pathname)
const { MemoryIdempotencyStore } = await import(`${dist}/index.js`)
const store = new MemoryIdempotencyStore(100_000)
const segment = 100_000
for (let s = 0; s < 4; s++) {
  const began = performance.now()
  for (let i = s * segment; i < (s + 1) * segment; i++) await store.claim(`key-${i}`, 60_000)
  const ms = performance.now() - began
  console.log(
    `claims ${s * segment + 1}-${(s + 1) * segment}: ${Math.round(segment / (ms / 1000)).toLocaleString('en')}/s`,
  )
}

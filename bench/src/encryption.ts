// node bench/dist/encryption.js [kafka]: what end-to-end payload encryption costs (issue 17 #6).
// The same bus, the same events, with and without `encryption`, rounds alternating (A B A B …) so
// that machine noise hits both alike; medians printed. (In memory, delivery happens while publish
// waits for its confirm, so publish/s and e2e/s come out alike there.) In-process (memory) by default, where the
// cost is most visible; `kafka` measures it over the broker of `npm run brokers -- up kafka`.
import { randomBytes } from 'node:crypto'
import { type BusConfig, createBus, MemoryBroker, memoryTransport } from '@omnibus/core'

const ROUNDS = Number(process.env.OMNIBUS_BENCH_ROUNDS ?? 5)
const COUNT = Number(process.env.OMNIBUS_BENCH_COUNT ?? 20_000)
const BATCH = 100
const target = process.argv[2] ?? 'memory'
const encryption = { current: 'bench-1', keys: { 'bench-1': randomBytes(32) } }

/** An order of roughly `bytes` of JSON. */
const order = (bytes: number) => ({
  id: 'o-1',
  lines: Array.from({ length: Math.max(1, Math.round(bytes / 64)) }, (_, i) => ({
    sku: `sku-${i}`,
    qty: i % 7,
    note: 'x'.repeat(24),
  })),
})

async function transport(): Promise<BusConfig['transports'][string]> {
  if (target === 'memory') return memoryTransport({ broker: new MemoryBroker() })
  if (target === 'kafka')
    return { adapter: 'kafka', brokers: (process.env.OMNIBUS_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',') }
  throw new Error(`unknown target ${target}: memory or kafka`)
}

/** Events per second published (confirmed) and handled end to end, one bus, encrypted or not. */
async function once(encrypted: boolean, bytes: number): Promise<{ publish: number; e2e: number }> {
  const type = `com.omnibus.bench.enc.${Math.random().toString(36).slice(2, 10)}`
  const t = await transport()
  const bus = await createBus({
    service: 'bench-encryption',
    transports: { t },
    delivery: { maxInFlight: 64 },
    ...(encrypted ? { encryption } : {}),
  })
  let handled = 0
  let done: () => void = () => {}
  const all = new Promise<void>((resolve) => {
    done = resolve
  })
  // Handlers read their data: the clear side parses it too (decoding is lazy).
  let lines = 0
  bus.on(type, async (e) => {
    lines += (e.data as { lines: unknown[] }).lines.length
    if (++handled === COUNT) done()
  })
  await bus.start()
  const data = order(bytes)
  const t0 = performance.now()
  for (let i = 0; i < COUNT; i += BATCH) {
    await bus.publish(Array.from({ length: BATCH }, () => ({ type, data })))
  }
  const published = performance.now()
  await all
  const end = performance.now()
  await bus.stop()
  if (lines !== COUNT * data.lines.length) throw new Error('the handlers did not see every line')
  return { publish: (COUNT / (published - t0)) * 1000, e2e: (COUNT / (end - t0)) * 1000 }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const fmt = (n: number) => Math.round(n).toLocaleString('en-US')

console.log(`payload encryption on ${target}: ${COUNT} events per side, ${ROUNDS} rounds, medians`)
console.log('| data | side | publish/s | e2e/s | µs per event (e2e) |')
console.log('|---|---|---:|---:|---:|')
for (const bytes of [1024, 16 * 1024]) {
  const plain: { publish: number; e2e: number }[] = []
  const sealed: { publish: number; e2e: number }[] = []
  for (let round = 0; round < ROUNDS; round++) {
    plain.push(await once(false, bytes))
    sealed.push(await once(true, bytes))
  }
  const row = (side: string, rs: { publish: number; e2e: number }[]) => {
    const e2e = median(rs.map((r) => r.e2e))
    console.log(
      `| ${bytes / 1024} KiB | ${side} | ${fmt(median(rs.map((r) => r.publish)))} | ${fmt(e2e)} | ${(1e6 / e2e).toFixed(1)} |`,
    )
    return e2e
  }
  const a = row('clear', plain)
  const b = row('encrypted', sealed)
  console.log(
    `| ${bytes / 1024} KiB | **encrypted / clear** | ${(median(sealed.map((r) => r.publish)) / median(plain.map((r) => r.publish))).toFixed(2)}× | ${(b / a).toFixed(2)}× | +${(1e6 / b - 1e6 / a).toFixed(1)} |`,
  )
}

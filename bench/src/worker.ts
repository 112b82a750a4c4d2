// One side (omnibus or raw) of one round for one target, in its own process so
// that its peak RSS is its own. Prints one JSON line with the figures.
import {
  createBus,
  createEvent,
  decodeMessage,
  encodeStructured,
  STRUCTURED_CONTENT_TYPE,
} from '@omnibus/core'
import type { BenchTarget } from './target.js'

export interface SideResult {
  publishPerSec: number
  e2ePerSec: number
  p50Ms: number
  p99Ms: number
  maxRssMb: number
  codecPerSec?: number
  codecSmallPerSec?: number
}

const [targetName = 'memory', side = 'omnibus', countArg = '20000'] = process.argv.slice(2)
const N = Number(countArg)
const BATCH = 500
const PAD = 'x'.repeat(960) // with sentAt and the JSON around it, 1 KiB of data
const now = () => performance.timeOrigin + performance.now()
const unique = () => Math.random().toString(36).slice(2, 10)

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0
}

async function until(done: () => boolean, what: string, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

async function omnibusSide(target: BenchTarget): Promise<Omit<SideResult, 'maxRssMb'>> {
  const bus = await createBus({
    service: 'bench',
    transports: { t: target.transport() },
    delivery: { maxInFlight: 64 },
  })
  const pubType = `bench.publish.${unique()}`
  const e2eType = `bench.e2e.${unique()}`
  const latencies: number[] = []
  bus.on<{ sentAt: number }>(e2eType, (event) => {
    latencies.push(now() - event.data!.sentAt)
  })
  await bus.start()
  await bus.publish({ type: pubType, data: { sentAt: now(), pad: PAD } }) // creates the channel, untimed
  let started = now()
  for (let i = 0; i < N; i += BATCH) {
    const batch = []
    for (let j = i; j < Math.min(N, i + BATCH); j++)
      batch.push({ type: pubType, data: { sentAt: now(), pad: PAD } })
    await bus.publish(batch)
  }
  const publishPerSec = (N / (now() - started)) * 1000
  started = now()
  for (let i = 0; i < N; i += BATCH) {
    const batch = []
    for (let j = i; j < Math.min(N, i + BATCH); j++)
      batch.push({ type: e2eType, data: { sentAt: now(), pad: PAD } })
    await bus.publish(batch)
  }
  await until(() => latencies.length >= N, 'the omnibus consumer')
  const e2ePerSec = (N / (now() - started)) * 1000
  await bus.stop()
  latencies.sort((a, b) => a - b)
  return { publishPerSec, e2ePerSec, p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99) }
}

async function rawSide(target: BenchTarget): Promise<Omit<SideResult, 'maxRssMb'>> {
  const raw = target.raw!()
  await raw.connect()
  const [pubChannel, e2eChannel, group] = [
    `bench.raw.publish.${unique()}`,
    `bench.raw.e2e.${unique()}`,
    `bench-${unique()}`,
  ]
  await raw.prepare(pubChannel, group)
  await raw.prepare(e2eChannel, group)
  const payload = () => Buffer.from(JSON.stringify({ sentAt: now(), pad: PAD }))
  await raw.publish(pubChannel, [payload()])
  let started = now()
  for (let i = 0; i < N; i += BATCH) {
    const batch = []
    for (let j = i; j < Math.min(N, i + BATCH); j++) batch.push(payload())
    await raw.publish(pubChannel, batch)
  }
  const publishPerSec = (N / (now() - started)) * 1000
  const latencies: number[] = []
  const consumer = await raw.consume(e2eChannel, group, (body) => {
    latencies.push(now() - (JSON.parse(body.toString('utf8')) as { sentAt: number }).sentAt)
  })
  started = now()
  for (let i = 0; i < N; i += BATCH) {
    const batch = []
    for (let j = i; j < Math.min(N, i + BATCH); j++) batch.push(payload())
    await raw.publish(e2eChannel, batch)
  }
  await until(() => latencies.length >= N, 'the raw consumer')
  const e2ePerSec = (N / (now() - started)) * 1000
  await consumer.close()
  await raw.close()
  latencies.sort((a, b) => a - b)
  return { publishPerSec, e2ePerSec, p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99) }
}

/** Envelope encode + decode per second, on envelopes made beforehand (1 KiB and small data). */
function codec(data: unknown): number {
  const count = 50_000
  const events = Array.from({ length: count }, () =>
    createEvent({ type: 'com.acme.order.placed', source: 'urn:bench', data }),
  )
  const headers = { 'content-type': STRUCTURED_CONTENT_TYPE }
  const started = now()
  for (const event of events) decodeMessage({ body: encodeStructured(event), headers }, [])
  return (count / (now() - started)) * 1000
}

const target = ((await import(`./targets/${targetName}.js`)) as Record<string, BenchTarget>)[targetName]!
const result: Omit<SideResult, 'maxRssMb'> =
  side === 'raw'
    ? await rawSide(target)
    : side === 'codec'
      ? { publishPerSec: 0, e2ePerSec: 0, p50Ms: 0, p99Ms: 0 }
      : await omnibusSide(target)
if (side === 'codec') {
  codec({ pad: PAD }) // warm-up
  result.codecPerSec = codec({ sentAt: now(), pad: PAD })
  result.codecSmallPerSec = codec({ orderId: 'o-123', sku: 'kettle', quantity: 2 })
}
const out: SideResult = { ...result, maxRssMb: process.resourceUsage().maxRSS / 1024 }
process.stdout.write(`${JSON.stringify(out)}\n`)
process.exit(0)

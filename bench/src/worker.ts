// One side (omnibus or raw) of one round for one target, in its own process so
// that its peak RSS is its own. Prints one JSON line with the figures.
import { createBus } from '@omnibus/core'
import {
  createEvent,
  decodeMessage,
  encodeBinary,
  encodeStructured,
  STRUCTURED_CONTENT_TYPE,
} from '@omnibus/core/adapter'
import type { BenchTarget, RawClient } from './target.js'

export interface SideResult {
  publishPerSec: number
  e2ePerSec: number
  /**
   * The same per second of this process's CPU time: on a machine shared with other work, what the
   * in-process memory transport costs (wall time measures the neighbours too).
   */
  e2ePerCpuSec?: number
  /** A second end-to-end phase on the warmed bus (targets with `steadyEvents`): wall and CPU time. */
  steadyE2ePerSec?: number
  steadyE2ePerCpuSec?: number
  /** Publish to handler start while publishing at a steady 1,000 events/s: the cost per message. */
  p50Ms: number
  p99Ms: number
  /** In the paced phase, from publish to the broker's confirm: the publishing part of p50. */
  pacedConfirmP50Ms?: number
  /** The same during the end-to-end run, where it is mostly time spent queueing. */
  saturatedP50Ms: number
  saturatedP99Ms: number
  maxRssMb: number
  codecPerSec?: number
  codecSmallPerSec?: number
  /** The same with a 1 KiB order of many fields, and in binary mode. */
  codecOrderPerSec?: number
  codecBinaryPerSec?: number
  codecBinaryOrderPerSec?: number
  /** Encode and decode alone, of events made beforehand (issue 20's first measure): the 1 KiB pad data. */
  codecEncodeDecodePerSec?: number
  codecBinaryEncodeDecodePerSec?: number
}

type Figures = Omit<SideResult, 'maxRssMb'>
interface Payload {
  sentAt: number
  pad: string
}

/** What a side does, the same for both: the flow in `measure` is shared so both sides run it alike. */
interface Driver {
  /** Publishes to the publish-only channel or the consumed one, resolving once the broker confirmed. */
  publish(channel: 'publish' | 'e2e', payloads: Payload[]): Promise<void>
  /** Starts (or lets through) the consumer of the e2e channel; `received` gets each handled payload's sentAt. */
  consume(received: (sentAt: number) => void): Promise<void>
  close(): Promise<void>
}

const [targetName = 'memory', side = 'omnibus', countArg = '20000', e2eArg] = process.argv.slice(2)
const target = (await import(`./targets/${targetName}.js`).then(
  (m: Record<string, BenchTarget>) => m[targetName] ?? m.default,
))!
const N = Number(countArg)
/** Events through the consumer; fewer than N where the broker's cost grows with queue depth (moto). */
const E2E = Number(e2eArg ?? countArg)
const BATCH = 500
const PAD = 'x'.repeat(960) // with sentAt and the JSON around it, 1 KiB of data
// The latency phase: batches of 10 every 10 ms, a load every broker here takes without queueing
// (moto: the target's own, slower pace).
const PACED_EVENTS = Number(process.env.OMNIBUS_BENCH_PACED_EVENTS ?? target.paced?.events ?? 3000)
const PACED_BATCH = Number(process.env.OMNIBUS_BENCH_PACED_BATCH ?? target.paced?.batch ?? 10)
const PACED_INTERVAL_MS = Number(
  process.env.OMNIBUS_BENCH_PACED_INTERVAL_MS ?? target.paced?.intervalMs ?? 10,
)
const now = () => performance.timeOrigin + performance.now()
const unique = () => Math.random().toString(36).slice(2, 10)
const payload = (): Payload => ({ sentAt: now(), pad: PAD })
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0
}

async function until(done: () => boolean, what: string, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`)
    await sleep(2)
  }
}

/** `count` more events end to end on the warmed bus, after the first phase (see `steadyEvents`). */
async function steadyPhase(driver: Driver, count: number) {
  let received = 0
  await driver.consume(() => received++)
  const started = now()
  const cpu = process.cpuUsage()
  for (let i = 0; i < count; i += BATCH) {
    await driver.publish('e2e', Array.from({ length: Math.min(BATCH, count - i) }, payload))
  }
  await until(() => received >= count, 'the consumer (steady)')
  const used = process.cpuUsage(cpu)
  return {
    steadyE2ePerSec: (count / (now() - started)) * 1000,
    steadyE2ePerCpuSec: (count / (used.user + used.system)) * 1e6,
  }
}

async function measure(driver: Driver): Promise<Figures> {
  await driver.publish('publish', [payload()]) // creates the channel, untimed
  let started = now()
  for (let i = 0; i < N; i += BATCH) {
    await driver.publish('publish', Array.from({ length: Math.min(BATCH, N - i) }, payload))
  }
  const publishPerSec = (N / (now() - started)) * 1000

  let latencies: number[] = []
  await driver.consume((sentAt) => latencies.push(now() - sentAt))
  started = now()
  const cpu = process.cpuUsage()
  for (let i = 0; i < E2E; i += BATCH) {
    await driver.publish('e2e', Array.from({ length: Math.min(BATCH, E2E - i) }, payload))
  }
  await until(() => latencies.length >= E2E, 'the consumer')
  const e2ePerSec = (E2E / (now() - started)) * 1000
  const used = process.cpuUsage(cpu)
  const e2ePerCpuSec = (E2E / (used.user + used.system)) * 1e6
  const saturated = latencies.sort((a, b) => a - b)
  const steady = target.steadyEvents ? await steadyPhase(driver, target.steadyEvents) : {}
  // The paced phase reads latencies again (steadyPhase counted only).
  if (target.steadyEvents) await driver.consume((sentAt) => latencies.push(now() - sentAt))

  // Paced: a batch every interval, or right after the previous one was confirmed if that took longer.
  latencies = []
  const confirms: number[] = [] // publish call to confirmed: how much of the latency is the publish
  let next = now()
  for (let i = 0; i < PACED_EVENTS; i += PACED_BATCH) {
    const wait = next - now()
    if (wait > 0) await sleep(wait)
    next = Math.max(next + PACED_INTERVAL_MS, now())
    const batch = Array.from({ length: PACED_BATCH }, payload)
    await driver.publish('e2e', batch)
    confirms.push(now() - batch[0]!.sentAt)
  }
  await until(() => latencies.length >= PACED_EVENTS, 'the consumer (paced)')
  const paced = latencies.sort((a, b) => a - b)
  confirms.sort((a, b) => a - b)
  await driver.close()
  return {
    publishPerSec,
    e2ePerSec,
    e2ePerCpuSec,
    ...steady,
    p50Ms: percentile(paced, 0.5),
    p99Ms: percentile(paced, 0.99),
    pacedConfirmP50Ms: percentile(confirms, 0.5),
    saturatedP50Ms: percentile(saturated, 0.5),
    saturatedP99Ms: percentile(saturated, 0.99),
  }
}

async function omnibusDriver(transport: BenchTarget['transport'], maxInFlight = 64): Promise<Driver> {
  const bus = await createBus({
    service: 'bench',
    transports: { t: transport() },
    delivery: { maxInFlight },
  })
  const types = { publish: `bench.publish.${unique()}`, e2e: `bench.e2e.${unique()}` }
  let received: (sentAt: number) => void = () => {
    throw new Error('bench: the e2e channel got an event before the e2e phase')
  }
  bus.on<Payload>(types.e2e, (event) => received(event.data!.sentAt))
  await bus.start()
  return {
    publish: (channel, payloads) => bus.publish(payloads.map((data) => ({ type: types[channel], data }))),
    consume: async (onReceived) => {
      received = onReceived
    },
    close: () => bus.stop(),
  }
}

/** The attributes Omnibus sends with each event, made per message as a hand-written sender would. */
const attributesFor = (type: string): Record<string, string> => ({
  specversion: '1.0',
  id: crypto.randomUUID(),
  source: 'urn:omnibus:bench',
  type,
  time: new Date().toISOString(),
  messagekind: 'event',
})

/** `raw`: the same bytes as Omnibus (CloudEvents attributes included); `raw-data`: the data alone. */
async function rawDriver(client: () => RawClient, withAttributes: boolean): Promise<Driver> {
  const raw = client()
  await raw.connect()
  const group = `bench-${unique()}`
  const channels = { publish: `bench.raw.publish.${unique()}`, e2e: `bench.raw.e2e.${unique()}` }
  await raw.prepare(channels.publish, group)
  await raw.prepare(channels.e2e, group)
  let consumer: { close(): Promise<void> } | undefined
  return {
    publish: (channel, payloads) =>
      raw.publish(
        channels[channel],
        payloads.map((data) =>
          withAttributes ? { data, attributes: attributesFor(channels[channel]) } : { data },
        ),
      ),
    consume: async (received) => {
      consumer = await raw.consume(channels.e2e, group, (body) => {
        // A structured body carries the payload under `data`; the other forms are the payload itself.
        const parsed = JSON.parse(body.toString('utf8')) as Payload & { data?: Payload }
        received((parsed.data ?? parsed).sentAt)
      })
    },
    close: async () => {
      await consumer?.close()
      await raw.close()
    },
  }
}

/** A peer library (`mqt`, `nest`) on this broker: bench-peers/src/<target>-<peer>.ts. */
async function peerDriver(target: string, peer: string): Promise<Driver> {
  const module = (await import(`@omnibus/bench-peers/${target}-${peer}`)) as { driver(): Promise<Driver> }
  return module.driver()
}

/** A 1 KiB order as services send them: many short fields, an array of line items (not one long string). */
const order = (i: number) => ({
  orderId: `o-${i}`,
  customer: { id: `c-${i % 977}`, name: 'Ada Lovelace', email: 'ada@example.com', tier: 'gold' },
  currency: 'EUR',
  placedAt: '2026-11-30T10:00:00.000Z',
  shipping: { street: '12 Analytical Engine Way', city: 'London', postcode: 'N1 9GU', country: 'GB' },
  items: Array.from({ length: 9 }, (_, n) => ({
    sku: `sku-${(i + n) % 1000}`,
    title: 'Stoneware mug, 350 ml',
    quantity: 1 + (n % 3),
    unitPrice: 12.5 + n,
  })),
  total: 123.45,
  notes: 'Leave at the door',
})

/**
 * Codec round trips per second on one core, what a sender and a receiver pay per message:
 * createEvent (validation and the data's JSON text, which the encoding reuses), encode, then
 * decode of the bytes, in structured or binary mode (the Kafka prefix). Fresh data objects per
 * event, made beforehand; the median of 5 passes of 20,000 after a warm-up pass, per second of
 * the process's CPU time (GC included).
 *
 * `encodeDecodeOnly`: issue 20's first measure, encode and decode alone. The events are made
 * untimed, a batch of 500 at a time (the bench's publish batch, as a sender makes and sends
 * them), each with fresh data; only their encode and decode are timed. createEvent's JSON of the
 * data, which the encoding reuses, is then outside the timing: the round trip above includes it.
 */
function codec(
  mode: 'structured' | 'binary',
  data: (i: number) => unknown,
  encodeDecodeOnly = false,
): number {
  const count = 20_000
  const batch = encodeDecodeOnly ? 500 : count
  const headers = { 'content-type': STRUCTURED_CONTENT_TYPE }
  const make = (d: unknown) => createEvent({ type: 'com.acme.order.placed', source: 'urn:bench', data: d })
  const pass = () => {
    let cpu = 0
    for (let start = 0; start < count; start += batch) {
      const inputs = Array.from({ length: batch }, (_, i) => data(start + i))
      const events = encodeDecodeOnly ? inputs.map(make) : undefined
      // CPU time, not wall time: on a shared machine the process is not always on a core.
      const started = process.cpuUsage()
      for (let i = 0; i < batch; i++) {
        const event = events ? events[i]! : make(inputs[i])
        if (mode === 'structured') decodeMessage({ body: encodeStructured(event), headers }, [])
        else {
          const wire = encodeBinary(event, 'ce_')
          decodeMessage({ body: wire.body, headers: wire.headers, contentType: wire.contentType }, ['ce_'])
        }
      }
      const used = process.cpuUsage(started)
      cpu += used.user + used.system
    }
    return (count / cpu) * 1e6
  }
  pass()
  const passes = Array.from({ length: 5 }, pass).sort((a, b) => a - b)
  return passes[2]!
}

let result: Figures
if (side === 'codec') {
  result = {
    publishPerSec: 0,
    e2ePerSec: 0,
    p50Ms: 0,
    p99Ms: 0,
    saturatedP50Ms: 0,
    saturatedP99Ms: 0,
    codecPerSec: codec('structured', () => ({ sentAt: now(), pad: PAD })),
    codecSmallPerSec: codec('structured', (i) => ({ orderId: `o-${i}`, sku: 'kettle', quantity: 2 })),
    codecOrderPerSec: codec('structured', order),
    codecBinaryPerSec: codec('binary', () => ({ sentAt: now(), pad: PAD })),
    codecBinaryOrderPerSec: codec('binary', order),
    codecEncodeDecodePerSec: codec('structured', () => ({ sentAt: now(), pad: PAD }), true),
    codecBinaryEncodeDecodePerSec: codec('binary', () => ({ sentAt: now(), pad: PAD }), true),
  }
} else {
  const baseline = target.baselines?.find((b) => b.side === side)
  const variant = target.variants?.[side]
  const driver = baseline
    ? rawDriver(baseline.raw, baseline.withAttributes)
    : side.startsWith('raw')
      ? rawDriver(target.raw!, side === 'raw')
      : side === 'omnibus' || variant
        ? omnibusDriver(variant ?? (() => target.transport()), target.variantInFlight?.[side])
        : peerDriver(target.broker ?? targetName, side)
  result = await measure(await driver)
}
const out: SideResult = { ...result, maxRssMb: process.resourceUsage().maxRSS / 1024 }
process.stdout.write(`${JSON.stringify(out)}\n`)
process.exit(0)

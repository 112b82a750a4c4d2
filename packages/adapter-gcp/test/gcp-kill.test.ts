import { capturingLogger } from '@omnibus/conformance'
import {
  type Channel,
  createEvent,
  DEFAULT_PUBLISH_TIMEOUT_MS,
  type OmnibusError,
} from '@omnibus/core/adapter'
import { afterAll, describe, expect, it } from 'vitest'
import { type GcpTransport, gcpTransport } from '../src/index.js'
import { channel, EMULATOR, emulator, makeTransport, PROJECT, unique, waitFor } from './helpers.js'

/**
 * Issue 19 #1, #2, #5: the emulator stopped under 50 concurrent publishers and started again
 * (empty, as it always comes back). Every publish settles within publishTimeoutMs; publishes
 * resume within publishTimeoutMs of the emulator answering; nothing confirmed after the stop is
 * lost (what the emulator forgot, confirmed before, is counted apart); the consumers come back by
 * themselves and say so once each.
 */
const WORKERS = 50
const MARGIN_MS = 1_500
const pace = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface Outcome {
  readonly channel: string
  readonly sent: number
  readonly settled: number
  readonly code?: string
}

describe('gcp: the emulator stopped mid-stream and started again', () => {
  const transports: GcpTransport[] = []
  afterAll(() => Promise.all(transports.map((t) => t.close())))

  it('bounds publishes, resumes, confirms nothing into the void, and the consumers recover', async () => {
    const publisher = makeTransport()
    const log = capturingLogger()
    const consumer = gcpTransport({ projectId: PROJECT, emulatorHost: EMULATOR }, { logger: log.logger })
    transports.push(publisher, consumer)
    await Promise.all([publisher.connect(), consumer.connect()])
    // The publisher declared the group on `declared`: it re-creates its subscription with the topic.
    // On `undeclared` only the consumer knows its group: the publisher must wait for it.
    const declared = channel('topic', 'kill')
    const undeclared = channel('topic', 'kill')
    const group = unique('g')
    await publisher.provision(declared, group)
    const delivered = new Map<number, number>()
    for (const ch of [declared, undeclared]) {
      const handler = async (d: { event?: { data?: unknown } }) => {
        const n = (d.event!.data as { n: number }).n
        delivered.set(n, (delivered.get(n) ?? 0) + 1)
      }
      await consumer.subscribe(ch, group, handler, { maxInFlight: 64 })
    }

    const outcomes = new Map<number, Outcome>()
    let next = 0
    let stop = false
    const worker = async () => {
      while (!stop) {
        const n = next++
        const ch: Channel = n % 2 === 0 ? declared : undeclared
        // Ordering keys, as most streams have: a key's batches go one at a time.
        const partitionkey = `key-${n % 8}`
        const event = createEvent({
          type: 'com.acme.kill',
          source: 'urn:test:gcp',
          partitionkey,
          data: { n },
        })
        const sent = Date.now()
        try {
          await publisher.publish(ch, [event])
          outcomes.set(n, { channel: ch.name, sent, settled: Date.now() })
        } catch (error) {
          const code = (error as OmnibusError).code
          outcomes.set(n, { channel: ch.name, sent, settled: Date.now(), code })
        }
        await pace(50) // a steady stream, not a flood, on a shared machine
      }
    }
    const workers = Array.from({ length: WORKERS }, worker)
    await waitFor('events flowing before the stop', () => delivered.size >= 100, 20_000)

    const killedAt = Date.now()
    await emulator('down')
    const downAt = Date.now()
    await emulator('up')
    const backAt = Date.now()
    const confirmedSince = (t: number, ch: Channel) =>
      [...outcomes.values()].filter((o) => !o.code && o.settled >= t && o.channel === ch.name)
    await waitFor(
      'publishes confirmed again on both channels',
      () => confirmedSince(backAt, declared).length >= 50 && confirmedSince(backAt, undeclared).length >= 50,
      30_000,
    )
    stop = true
    await Promise.all(workers)

    // Once `down` returned the old emulator was gone: what was confirmed since, the new one confirmed.
    // What the old one confirmed and had not delivered, it forgot: counted apart.
    const confirmed = [...outcomes].filter(([, o]) => !o.code)
    const afterStop = confirmed.filter(([, o]) => o.settled >= downAt)
    await waitFor('every event confirmed after the stop delivered', () =>
      afterStop.every(([n]) => delivered.has(n)),
    ).catch(() => undefined)
    const lost = afterStop.filter(([n]) => !delivered.has(n)).map(([n]) => n)
    const forgotten = confirmed.filter(([n, o]) => o.settled < downAt && !delivered.has(n)).length
    const rejected = [...outcomes.values()].filter((o) => o.code)
    const codes = new Set(rejected.map((o) => o.code))
    const longest = Math.max(...[...outcomes.values()].map((o) => o.settled - o.sent))
    const resumed = (ch: Channel) => Math.min(...confirmedSince(backAt, ch).map((o) => o.settled)) - backAt
    const duplicates = [...delivered.values()].filter((count) => count > 1).length
    const outages = log.lines.filter((l) => l.startsWith('warn [gcp] consumer lost the broker'))
    const recoveriesNow = () => log.lines.filter((l) => l.startsWith('info [gcp] consumer recovered'))
    // Every event arrived, so both consumers are back; each says so once it has seen it.
    await waitFor('both consumers reported their recovery', () => recoveriesNow().length >= 2, 10_000).catch(
      () => undefined,
    )
    const recoveries = recoveriesNow()
    console.log(
      `[gcp kill] ${outcomes.size} published, ${confirmed.length} confirmed, ${rejected.length} rejected ` +
        `(${[...codes].join(', ')}), ${lost.length} lost, ${forgotten} forgotten by the emulator (confirmed ` +
        `before it was gone), ${duplicates} delivered twice; down ${backAt - downAt} ms (stop took ` +
        `${downAt - killedAt} ms); publishes resumed ${resumed(declared)} ms (declared group) and ` +
        `${resumed(undeclared)} ms (group only the consumer knew) after it was back; longest publish ` +
        `${longest} ms; consumer log:\n  ${log.lines.filter((l) => !l.startsWith('debug')).join('\n  ')}`,
    )
    expect(lost).toEqual([])
    for (const code of codes) expect(['PUBLISH_FAILED', 'CHANNEL_NOT_FOUND']).toContain(code)
    expect(longest).toBeLessThanOrEqual(DEFAULT_PUBLISH_TIMEOUT_MS + MARGIN_MS)
    expect(resumed(declared)).toBeLessThanOrEqual(DEFAULT_PUBLISH_TIMEOUT_MS + MARGIN_MS)
    // Each consumer: one warning when it lost the broker, one recovery with the outage's length.
    expect(outages).toHaveLength(2)
    expect(recoveries).toHaveLength(2)
    for (const line of recoveries) expect(line).toMatch(/"outageMs":\d+/)
  }, 120_000)
})

import { capturingLogger } from '@omnibus/conformance'
import { OmnibusError } from '@omnibus/core'
import { describe, expect, it } from 'vitest'
import { kafkaTransport } from '../src/index.js'
import { BROKERS, brokers, event, uniq, waitFor } from './helpers.js'

const TIMEOUT_MS = 2_000

// Kafka stopped mid-stream for longer than the client's retry budget: every publish settles within
// publishTimeoutMs, the consumer comes back by itself, and the outage is logged once each way.
describe('broker outage', () => {
  it('publishes reject within publishTimeoutMs; the consumer comes back by itself and says so once', async () => {
    const { logger, lines } = capturingLogger()
    // A small retry budget, so that kafkajs gives up on the consumer (a non-retriable crash) in seconds.
    const retry = { retries: 2, initialRetryTime: 100, maxRetryTime: 500 }
    const driver = process.env.OMNIBUS_KAFKA_DRIVER === 'platformatic' ? 'platformatic' : 'kafkajs'
    const t = kafkaTransport({ brokers: BROKERS, driver, publishTimeoutMs: TIMEOUT_MS, retry }, { logger })
    await t.connect()
    const channel = { name: uniq('outage'), kind: 'topic' as const }
    const handled = new Set<string>()
    const sub = await t.subscribe(channel, 'g', async (d) => void handled.add(d.event!.id), {
      maxInFlight: 16,
    })
    const confirmed: string[] = []
    const rejected: { ms: number; error: unknown }[] = []
    let publishing = true
    const publisher = (async () => {
      while (publishing) {
        const events = Array.from({ length: 5 }, () => event('com.test.outage'))
        await Promise.all(
          events.map(async (e) => {
            const started = Date.now()
            await t.publish(channel, [e]).then(
              () => confirmed.push(e.id),
              (error: unknown) => rejected.push({ ms: Date.now() - started, error }),
            )
          }),
        )
      }
    })()
    const count = (text: string) => lines.filter((l) => l.includes(text)).length
    try {
      await waitFor('100 confirmed before the outage', () => confirmed.length >= 100)
      await brokers('down', 'kafka')
      await waitFor('publishes rejected while Kafka is down', () => rejected.length >= 20, 30_000)
      await waitFor('the consumer reports the outage', () => count('consumer lost the broker') > 0, 60_000)
      await brokers('up', 'kafka')
      const back = Date.now()
      const before = confirmed.length
      await waitFor('publishes confirmed again', () => confirmed.length > before, 60_000)
      const resumedMs = Date.now() - back
      await waitFor('200 more confirmed', () => confirmed.length >= before + 200, 60_000)
      publishing = false
      await publisher
      await waitFor('every confirmed event handled', () => confirmed.every((id) => handled.has(id)), 90_000)
      await waitFor('the consumer reports its recovery', () => count('consumer is back') > 0, 30_000)
      const slowest = Math.max(...rejected.map((r) => r.ms))
      console.log(
        `[kafka outage] ${confirmed.length} confirmed, ${rejected.length} rejected (slowest ${slowest} ms), ` +
          `0 of the confirmed lost, first confirm ${resumedMs} ms after Kafka answered again; ` +
          lines.find((l) => l.includes('consumer is back')),
      )
      for (const { error, ms } of rejected) {
        expect((error as OmnibusError).code).toBe('PUBLISH_FAILED')
        expect(error).toBeInstanceOf(OmnibusError)
        expect(ms).toBeLessThan(TIMEOUT_MS + 1_000)
      }
      expect(count('consumer lost the broker')).toBe(1)
      expect(count('consumer is back')).toBe(1)
      expect(lines.find((l) => l.includes('consumer is back'))).toMatch(/"outageMs":\d+/)
    } finally {
      publishing = false
      await publisher
      await sub.close()
      await t.close()
    }
  }, 300_000)
})

import { describe, it } from 'vitest'
import { event, expectPublishFailed, restartKafka, transport, uniq, waitFor } from './helpers.js'

describe('broker restart', () => {
  it('publishers and consumers recover by themselves; nothing confirmed is lost', async () => {
    const t = transport()
    await t.connect()
    const channel = { name: uniq('restart'), kind: 'topic' as const }
    const handled = new Set<string>()
    const sub = await t.subscribe(channel, 'g', async (d) => void handled.add(d.event!.id), {
      maxInFlight: 16,
    })
    const confirmed = new Set<string>()
    const failures: unknown[] = []
    let publishing = true
    const publisher = (async () => {
      while (publishing) {
        const events = Array.from({ length: 10 }, () => event('com.test.restart'))
        const results = await Promise.allSettled(events.map((e) => t.publish(channel, [e])))
        results.forEach((r, i) => {
          if (r.status === 'fulfilled') confirmed.add(events[i]!.id)
          else failures.push(r.reason)
        })
      }
    })()
    try {
      await waitFor('500 confirmed before the restart', () => confirmed.size >= 500)
      await restartKafka()
      const after = confirmed.size
      await waitFor('300 more confirmed after the restart', () => confirmed.size >= after + 300, 120_000)
      publishing = false
      await publisher
      const missing = () => [...confirmed].filter((id) => !handled.has(id)).length
      await waitFor(
        `every confirmed event handled (${confirmed.size} confirmed)`,
        () => missing() === 0,
        60_000,
      ).catch((error: Error) => {
        throw new Error(`${error.message}; ${missing()} not handled, ${failures.length} publishes rejected`)
      })
      expectPublishFailed(failures)
    } finally {
      publishing = false
      await publisher
      await sub.close()
      await t.close()
    }
  }, 300_000)
})

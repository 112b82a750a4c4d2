import { type Envelope, OmnibusError } from '@omnibus/core'
import { type Channel, createEvent, type Delivery } from '@omnibus/core/adapter'
import { expect } from 'vitest'
import type { Case } from './case.js'
import { range } from './harness.js'

/**
 * Cases that drive a `Transport` directly, without a bus: what they check is the adapter's own
 * doing, which core's policy (retries, the delivery-count guard) could otherwise hide.
 */

export const transportCases: Case[] = [
  {
    id: 21,
    name: 'a member that stops releases what it holds without failing it: the next member gets every event, delivered at most twice, none handed twice to the stopping member',
    timeoutMs: 180_000,
    async run(h) {
      // Repeated so that the close lands in every part of the window: receives open, prefetch full, handlers running.
      const rounds = h.sizes.stopRounds
      for (const round of range(rounds)) {
        const channel: Channel = { name: h.type(`stop${round}`), kind: 'topic' }
        const group = h.group('stop')
        const a = await h.transport()
        const producer = await h.transport()
        await a.provision?.(channel, group)
        // Like core: handled until the member stops, then every delivery is rejected (released).
        let stopping = false
        const acked = new Set<string>()
        const releasedByA = new Map<string, number>()
        const held: (() => void)[] = []
        const subA = await a.subscribe(
          channel,
          group,
          async (d: Delivery) => {
            const id = d.event?.id ?? 'malformed'
            if (!stopping && id.endsWith('-hold')) await new Promise<void>((resolve) => held.push(resolve))
            if (stopping) {
              releasedByA.set(id, (releasedByA.get(id) ?? 0) + 1)
              throw new Error('member stopping; released')
            }
            acked.add(id)
          },
          { maxInFlight: 12 },
        )
        const events: Envelope[] = range(12).map((i) =>
          createEvent({
            type: channel.name,
            source: 'urn:omnibus:conformance',
            id: `e${round}-${i}${i % 3 === 0 ? '-hold' : ''}`,
            data: { i },
          }),
        )
        const publishing = (async () => {
          for (const event of events) await producer.publish(channel, [event])
        })()
        // Stop at a different point of the stream each round.
        await new Promise((resolve) => setTimeout(resolve, (round * 37) % 300))
        stopping = true
        for (const release of held.splice(0)) release()
        await subA.close()
        await publishing
        const counts = new Map<string, number>()
        const b = await h.transport()
        const subB = await b.subscribe(
          channel,
          group,
          async (d: Delivery) => {
            const id = d.event?.id ?? 'malformed'
            counts.set(id, Math.max(counts.get(id) ?? 0, d.deliveryCount))
          },
          { maxInFlight: 12 },
        )
        const left = events.map((e) => e.id).filter((id) => !acked.has(id))
        await h.until(
          `round ${round}: the events the stopped member did not acknowledge, at the next member`,
          () => left.every((id) => counts.has(id)),
          60_000,
          () => `missing ${left.filter((id) => !counts.has(id)).join(', ')}`,
        )
        await subB.close()
        const twice = [...releasedByA].filter(([, n]) => n > 1).map(([id]) => id)
        expect(twice, `round ${round}: handed again to the member that was stopping`).toEqual([])
        const inflated = [...counts].filter(([, n]) => n > 2).map(([id, n]) => `${id}: ${n}`)
        expect(inflated, `round ${round}: delivery counts raised by releases alone`).toEqual([])
      }
    },
  },
]

transportCases.push({
  id: 22,
  name: 'a must-exist channel: publish fails with CHANNEL_NOT_FOUND while it is missing and never creates it; a temporary channel is gone once its subscription closed',
  timeoutMs: 60_000,
  async run(h) {
    const channel: Channel = { name: h.type('mustexist'), kind: 'queue' }
    const asked: Channel = { ...channel, mustExist: true }
    const t = await h.transport()
    const answerer = await h.transport()
    const event = (n: number) =>
      createEvent({ type: channel.name, source: 'urn:omnibus:conformance', data: { n } })
    const notFound = async (what: string) => {
      const error = await answerer.publish(asked, [event(0)]).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error, what).toBeInstanceOf(OmnibusError)
      expect((error as OmnibusError).code, what).toBe('CHANNEL_NOT_FOUND')
    }
    await notFound('before anyone made the channel')
    const got: string[] = []
    const sub = await t.subscribe(channel, channel.name, async (d) => void got.push(d.event?.id ?? ''), {
      maxInFlight: 4,
      temporary: true,
    })
    const reply = event(1)
    await answerer.publish(asked, [reply])
    await h.until('the event on the existing channel', () => got.includes(reply.id))
    await sub.close()
    // The first publish made nothing, and the temporary channel went with its subscription.
    await notFound('after the temporary subscription closed')
  },
})

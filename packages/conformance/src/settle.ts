import { type Envelope, OmnibusError } from '@omnibus/core'
import { type Channel, createEvent, type Delivery, type Transport } from '@omnibus/core/adapter'
import { expect } from 'vitest'
import type { Case } from './case.js'
import { type Harness, range } from './harness.js'

/**
 * Transport-level cases on settling (issue 14 #3): what the adapter hands out, what it does with
 * a rejection, what `close()` waits for, and what a publish's promise means. No bus: core's own
 * `maxInFlight`, retries and stop policy would hide an adapter that gets these wrong.
 */

/** A fresh topic with `group` made, so that what is published from now on waits for it. */
async function topic(h: Harness, t: Transport, label: string): Promise<{ channel: Channel; group: string }> {
  const channel: Channel = { name: h.type(label), kind: 'topic' }
  const group = h.group(label)
  await t.provision?.(channel, group)
  return { channel, group }
}

const events = (channel: Channel, n: number, key?: (i: number) => string): Envelope[] =>
  range(n).map((i) =>
    createEvent({
      type: channel.name,
      source: 'urn:omnibus:conformance',
      data: { i },
      ...(key ? { partitionkey: key(i) } : {}),
    }),
  )

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export const settleCases: Case[] = [
  {
    id: 23,
    name: 'the adapter itself never hands out more than maxInFlight unsettled deliveries',
    timeoutMs: 90_000,
    async run(h) {
      const t = await h.transport()
      const { channel, group } = await topic(h, t, 'inflight')
      const max = 3
      let open = 0
      let highest = 0
      const done = new Set<string>()
      const sub = await t.subscribe(
        channel,
        group,
        async (d: Delivery) => {
          open++
          highest = Math.max(highest, open)
          // Work that takes a while, so that an adapter handing out more would be caught holding more.
          await pause(15)
          open--
          done.add(d.event?.id ?? 'malformed')
        },
        { maxInFlight: max },
      )
      // Six keys, so that an adapter ordering per key may still run deliveries side by side.
      const sent = events(channel, 40, (i) => `k${i % 6}`)
      await t.publish(channel, sent)
      await h.until('every event handled', () => sent.every((e) => done.has(e.id)), 60_000)
      await sub.close()
      expect(highest, `unsettled deliveries at once, with maxInFlight ${max}`).toBeLessThanOrEqual(max)
    },
  },
  {
    id: 24,
    name: 'a rejected delivery comes back, with a delivery count that does not go down',
    timeoutMs: 90_000,
    async run(h) {
      const t = await h.transport()
      const { channel, group } = await topic(h, t, 'reject')
      const counts = new Map<string, number[]>()
      const sub = await t.subscribe(
        channel,
        group,
        async (d: Delivery) => {
          const id = d.event?.id ?? 'malformed'
          const seen = counts.get(id) ?? []
          counts.set(id, [...seen, d.deliveryCount])
          // The first delivery of each event is given back; the one that comes back is acknowledged.
          if (seen.length === 0) throw new Error('rejected by the conformance case')
        },
        { maxInFlight: 4 },
      )
      const sent = events(channel, 5)
      await t.publish(channel, sent)
      await h.until(
        'each rejected event delivered again',
        () => sent.every((e) => (counts.get(e.id)?.length ?? 0) >= 2),
        60_000,
        () => `not back: ${sent.filter((e) => (counts.get(e.id)?.length ?? 0) < 2).map((e) => e.id)}`,
      )
      await sub.close()
      for (const e of sent) {
        const [first, again] = counts.get(e.id) ?? []
        expect(again, `${e.id}: delivery count ${first} then ${again}`).toBeGreaterThanOrEqual(first ?? 1)
      }
    },
  },
  {
    id: 25,
    name: 'close() of a subscription waits for its deliveries to settle, and what they acknowledged stays acknowledged',
    timeoutMs: 120_000,
    async run(h) {
      const t = await h.transport()
      const { channel, group } = await topic(h, t, 'close')
      const held: (() => void)[] = []
      const acked = new Set<string>()
      let closing = false
      const sub = await t.subscribe(
        channel,
        group,
        async (d: Delivery) => {
          const id = d.event?.id ?? 'malformed'
          // Handed out after close began: given back, as core does with what arrives while it stops.
          if (closing) throw new Error('subscription closing; released')
          await new Promise<void>((resolve) => held.push(resolve))
          acked.add(id)
        },
        { maxInFlight: 4 },
      )
      // One key: where the broker keeps order (Kafka), an acknowledgement the close lost would show
      // as the acknowledged event coming back before the later ones.
      const sent = events(channel, 6, () => 'one')
      await t.publish(channel, sent)
      await h.until('a delivery in the handler', () => held.length > 0)
      closing = true
      let closed = false
      const closingDone = sub.close().then(() => {
        closed = true
      })
      // Long enough for a close that does not wait to have finished.
      await pause(300)
      expect(closed, 'close() resolved while a delivery was still in its handler').toBe(false)
      for (const release of held.splice(0)) release()
      await h.until('close() to resolve once the deliveries settled', () => closed, 30_000)
      await closingDone
      expect(acked.size, 'deliveries acknowledged while closing').toBeGreaterThan(0)

      const b = await h.transport()
      const again = new Set<string>()
      const subB = await b.subscribe(
        channel,
        group,
        async (d: Delivery) => void again.add(d.event?.id ?? ''),
        {
          maxInFlight: 4,
        },
      )
      const rest = sent.filter((e) => !acked.has(e.id)).map((e) => e.id)
      const marker = events(channel, 1, () => 'one')
      await t.publish(channel, marker)
      await h.until(
        'the unacknowledged events and a later one at the next member',
        () => [...rest, marker[0]!.id].every((id) => again.has(id)),
        60_000,
      )
      await subB.close()
      const back = [...acked].filter((id) => again.has(id))
      expect(back, 'events acknowledged during close() delivered again').toEqual([])
    },
  },
  {
    id: 26,
    name: 'publish of N events resolves once all N are confirmed (concurrent calls too), and rejects whole when the channel is missing',
    timeoutMs: 90_000,
    async run(h) {
      const t = await h.transport()
      const { channel, group } = await topic(h, t, 'batch')
      const got = new Set<string>()
      const sub = await t.subscribe(channel, group, async (d: Delivery) => void got.add(d.event?.id ?? ''), {
        maxInFlight: 16,
      })
      const batches = range(4).map(() => events(channel, 50, (i) => `k${i % 4}`))
      // Concurrent calls, so that an adapter batching publishes settles each with its own events.
      await Promise.all(batches.map((batch) => t.publish(channel, batch)))
      const sent = batches.flat()
      await h.until(
        'every confirmed event at the group',
        () => sent.every((e) => got.has(e.id)),
        60_000,
        () => `${sent.filter((e) => !got.has(e.id)).length} of ${sent.length} missing`,
      )
      await sub.close()

      const missing: Channel = { name: h.type('batchmissing'), kind: 'queue', mustExist: true }
      const error = await t.publish(missing, events(missing, 10)).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error, 'a batch to a missing must-exist channel').toBeInstanceOf(OmnibusError)
      expect((error as OmnibusError).code).toBe('CHANNEL_NOT_FOUND')
    },
  },
]

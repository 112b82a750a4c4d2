import { createEvent, type Delivery } from '@omnibus/core/adapter'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { GcpTransport } from '../src/index.js'
import { channel, makeTransport, unique, waitFor } from './helpers.js'

const keyed = (key: string, n: number) =>
  createEvent({ type: 'com.acme.ordered', source: 'urn:test:gcp', partitionkey: key, data: { key, n } })

describe('gcp delivery against the emulator', () => {
  let transport: GcpTransport

  beforeAll(async () => {
    transport = makeTransport()
    await transport.connect()
  })
  afterAll(() => transport.close())

  it('keeps per-key order through ordering keys', async () => {
    const ch = channel('topic')
    const group = unique('g')
    await transport.provision(ch, group)
    const keys = ['a', 'b', 'c', 'd']
    const events = Array.from({ length: 200 }, (_, i) =>
      keyed(keys[i % keys.length]!, Math.floor(i / keys.length)),
    )
    await transport.publish(ch, events)
    const seen = new Map<string, number[]>()
    let total = 0
    const sub = await transport.subscribe(
      ch,
      group,
      async (d) => {
        const { key, n } = d.event!.data as { key: string; n: number }
        // Sequential per key, as core does: the handler of one key never overlaps.
        seen.set(key, [...(seen.get(key) ?? []), n])
        total++
      },
      { maxInFlight: 8 },
    )
    await waitFor('200 deliveries', () => total >= 200)
    await sub.close()
    // First deliveries in order; a redelivery (an ack deadline passed on a loaded machine) replays
    // a key's tail in order too, which is not what this tests.
    for (const key of keys)
      expect([...new Set(seen.get(key))]).toEqual(Array.from({ length: 50 }, (_, i) => i))
  })

  it('never has more than maxInFlight deliveries unsettled, and a rejected one comes back', async () => {
    const ch = channel('queue')
    await transport.publish(
      ch,
      Array.from({ length: 40 }, (_, i) =>
        createEvent({ type: 'com.acme.flow', source: 'urn:test:gcp', data: i }),
      ),
    )
    let running = 0
    let peak = 0
    const done = new Set<unknown>()
    let rejectedOnce = false
    const sub = await transport.subscribe(
      ch,
      ch.name,
      async (d: Delivery) => {
        running++
        peak = Math.max(peak, running)
        await new Promise((r) => setTimeout(r, 20))
        running--
        if (d.event!.data === 7 && !rejectedOnce) {
          rejectedOnce = true
          throw new Error('first attempt fails')
        }
        done.add(d.event!.data)
      },
      { maxInFlight: 3 },
    )
    await waitFor('all 40 handled', () => done.size === 40)
    await sub.close()
    expect(peak).toBeLessThanOrEqual(3)
    expect(peak).toBeGreaterThan(1)
    expect(rejectedOnce).toBe(true)
  })

  it('close() waits for running handlers, acks them, and leaves the rest for the next member', async () => {
    const ch = channel('queue')
    const ids = Array.from({ length: 30 }, (_, i) => i)
    await transport.publish(
      ch,
      ids.map((i) => createEvent({ type: 'com.acme.drain', source: 'urn:test:gcp', data: i })),
    )
    const first = new Set<unknown>()
    let started = 0
    let finished = 0
    const sub = await transport.subscribe(
      ch,
      ch.name,
      async (d) => {
        started++
        await new Promise((r) => setTimeout(r, 300))
        first.add(d.event!.data)
        finished++
      },
      { maxInFlight: 5 },
    )
    await waitFor('handlers running', () => started >= 5)
    await sub.close()
    expect(finished).toBe(started)
    const second = new Set<unknown>()
    const next = await transport.subscribe(ch, ch.name, async (d) => void second.add(d.event!.data), {
      maxInFlight: 10,
    })
    await waitFor('the rest', () => new Set([...first, ...second]).size === 30)
    // What the first member finished was acknowledged: no redelivery of it.
    await new Promise((r) => setTimeout(r, 500))
    await next.close()
    for (const n of first) expect(second.has(n)).toBe(false)
  })

  it('replays: a new group started from earliest or from a time sees older retained messages', async () => {
    // The emulator cannot seek ordered subscriptions; real Pub/Sub replays with ordering on too.
    const transport = makeTransport({ retentionSeconds: 600, ordering: false })
    await transport.connect()
    expect(transport.capabilities.replay).toBe(true)
    const ch = channel('topic')
    await transport.provision(ch, unique('existing'))
    const old = Array.from({ length: 5 }, (_, i) =>
      createEvent({ type: 'com.acme.old', source: 'urn:test:gcp', data: i }),
    )
    await transport.publish(ch, old)
    // The cut lies strictly between the two publishes: a seek replays messages published at or
    // after the time, and the emulator stamps publishTime to the millisecond, so a cut taken right
    // after the publish returned often equals the old messages' publishTime (seen in 11 of 40 runs,
    // each time with publishTime === cut exactly) and rightly replays them.
    await new Promise((r) => setTimeout(r, 25))
    const cut = new Date()
    await new Promise((r) => setTimeout(r, 25))
    const newer = createEvent({ type: 'com.acme.newer', source: 'urn:test:gcp', data: 99 })
    await transport.publish(ch, [newer])
    const fromStart: unknown[] = []
    const fromTime: unknown[] = []
    const subs = await Promise.all([
      transport.subscribe(ch, unique('earliest'), async (d) => void fromStart.push(d.event!.data), {
        maxInFlight: 10,
        from: 'earliest',
      }),
      transport.subscribe(ch, unique('time'), async (d) => void fromTime.push(d.event!.data), {
        maxInFlight: 10,
        from: { time: cut },
      }),
    ])
    await waitFor('replayed messages', () => fromStart.length >= 6 && fromTime.length >= 1)
    const last = createEvent({ type: 'com.acme.last', source: 'urn:test:gcp', data: 100 })
    await transport.publish(ch, [last])
    await waitFor('the message after subscribing', () => fromStart.includes(100) && fromTime.includes(100))
    await Promise.all(subs.map((s) => s.close()))
    await transport.close()
    // Sets: a redelivery (an ack deadline passed on a loaded machine) is not what this tests.
    expect([...new Set(fromStart)].sort((a, b) => Number(a) - Number(b))).toEqual([0, 1, 2, 3, 4, 99, 100])
    // Exactly from the time on, to the millisecond.
    expect([...new Set(fromTime)]).toEqual([99, 100])
  })
})

import type { Delivery, Transport } from '@omnibus/core/adapter'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { groupIdFor } from '../src/index.js'
import { event, rawKafka, recorder, transport, uniq, waitFor } from './helpers.js'

const ids = (ds: Delivery[]) => new Set(ds.map((d) => d.event!.id))

describe('delivery: positions, acknowledgement, redelivery, flow', () => {
  let t: Transport
  let one: Transport // topics of one partition, where offsets are easy to reason about
  const admin = rawKafka().admin()

  beforeAll(async () => {
    t = transport()
    one = transport({ partitions: 1 })
    await Promise.all([t.connect(), one.connect(), admin.connect()])
  })
  afterAll(async () => {
    await Promise.all([t.close(), one.close(), admin.disconnect()])
  })

  it('a group that subscribed once gets everything published while it was stopped', async () => {
    const channel = { name: uniq('stopped'), kind: 'topic' as const }
    const first = await t.subscribe(channel, 'g1', async () => {}, { maxInFlight: 4 })
    await first.close()
    const sent = Array.from({ length: 100 }, (_, i) => event('com.test.stopped', { data: { i } }))
    await t.publish(channel, sent)
    const { deliveries, handler } = recorder()
    const second = await t.subscribe(channel, 'g1', handler, { maxInFlight: 16 })
    await waitFor('100 deliveries', () => ids(deliveries).size === 100)
    await second.close()
    expect(ids(deliveries)).toEqual(new Set(sent.map((e) => e.id)))
  })

  it('provision() alone makes a new group durable, and a queue keeps messages before anyone subscribes', async () => {
    const topic = { name: uniq('provisioned'), kind: 'topic' as const }
    const queue = { name: uniq('queue'), kind: 'queue' as const }
    await t.provision!(topic, 'g')
    const events = Array.from({ length: 10 }, () => event('com.test.p'))
    await t.publish(topic, events)
    await t.publish(queue, events)
    const a = recorder()
    const b = recorder()
    const subs = await Promise.all([
      t.subscribe(topic, 'g', a.handler, { maxInFlight: 4 }),
      t.subscribe(queue, queue.name, b.handler, { maxInFlight: 4 }),
    ])
    await waitFor('both got 10', () => ids(a.deliveries).size === 10 && ids(b.deliveries).size === 10)
    await Promise.all(subs.map((s) => s.close()))
  })

  it('commits only up to the lowest unacknowledged record, and a rejected record comes back', async () => {
    const channel = { name: uniq('acks'), kind: 'topic' as const }
    const groupId = groupIdFor('omnibus.', channel, 'g', channel.name)
    const sent = Array.from({ length: 6 }, (_, i) => event('com.test.ack', { data: { i } }))
    let release: () => void = () => {}
    const held = new Promise<void>((r) => {
      release = r
    })
    const seen: Delivery[] = []
    let rejectedOnce = false
    const sub = await one.subscribe(
      channel,
      'g',
      async (d) => {
        seen.push(d)
        const i = (d.event!.data as { i: number }).i
        if (i === 2) await held
        if (i === 4 && !rejectedOnce) {
          rejectedOnce = true
          throw new Error('not now')
        }
      },
      { maxInFlight: 8 },
    )
    try {
      await one.publish(channel, sent)
      await waitFor('6 first deliveries', () => seen.length >= 6)
      const committed = async () => {
        const [offsets] = await admin.fetchOffsets({ groupId, topics: [channel.name] })
        return Number(offsets!.partitions[0]!.offset)
      }
      // 0 and 1 are done, 2 is held: nothing at or after 2 may count as consumed.
      await waitFor('commit at 2', async () => (await committed()) === 2)
      await new Promise((r) => setTimeout(r, 1000))
      expect(await committed()).toBe(2)
      release()
      await waitFor('the rejected record again', () =>
        seen.some((d) => (d.event!.data as { i: number }).i === 4 && d.deliveryCount === 2),
      )
      await waitFor('commit at 6', async () => (await committed()) === 6)
    } finally {
      release()
      await sub.close()
    }
  })

  it('never has more than maxInFlight deliveries unsettled, and uses that many', async () => {
    const channel = { name: uniq('flow'), kind: 'topic' as const }
    let running = 0
    let peak = 0
    let done = 0
    const sub = await t.subscribe(
      channel,
      'g',
      async () => {
        peak = Math.max(peak, ++running)
        await new Promise((r) => setTimeout(r, 5))
        running--
        done++
      },
      { maxInFlight: 5 },
    )
    await t.publish(
      channel,
      Array.from({ length: 300 }, () => event('com.test.flow')),
    )
    await waitFor('300 handled', () => done >= 300)
    await sub.close()
    expect(peak).toBeLessThanOrEqual(5)
    expect(peak).toBe(5)
  })

  it('hands over same-key records in publish order, across members of a group', async () => {
    const channel = { name: uniq('order'), kind: 'topic' as const }
    const order = new Map<string, number[]>()
    const handler = async (d: Delivery) => {
      const { k, i } = d.event!.data as { k: string; i: number }
      const list = order.get(k) ?? []
      list.push(i)
      order.set(k, list)
    }
    const subs = await Promise.all([1, 2].map(() => t.subscribe(channel, 'g', handler, { maxInFlight: 8 })))
    const keys = Array.from({ length: 8 }, (_, k) => `key-${k}`)
    for (let i = 0; i < 50; i++) {
      await t.publish(
        channel,
        keys.map((k) => event('com.test.order', { partitionkey: k, data: { k, i } })),
      )
    }
    await waitFor('400 handled', () => [...order.values()].reduce((n, l) => n + l.length, 0) >= 400)
    await Promise.all(subs.map((s) => s.close()))
    // A rebalance may hand a record over again (at least once); first handlings keep the order.
    for (const k of keys) expect([...new Set(order.get(k))]).toEqual(Array.from({ length: 50 }, (_, i) => i))
  })

  it('two groups each get every event; members of a group share them', async () => {
    const channel = { name: uniq('groups'), kind: 'topic' as const }
    const [a1, a2, b] = [recorder(), recorder(), recorder()]
    const subs = [
      await t.subscribe(channel, 'a', a1.handler, { maxInFlight: 8 }),
      await t.subscribe(channel, 'a', a2.handler, { maxInFlight: 8 }),
      await t.subscribe(channel, 'b', b.handler, { maxInFlight: 8 }),
    ]
    const sent = Array.from({ length: 200 }, () => event('com.test.groups'))
    await t.publish(channel, sent)
    await waitFor(
      'both groups complete',
      () => ids([...a1.deliveries, ...a2.deliveries]).size === 200 && ids(b.deliveries).size === 200,
    )
    await Promise.all(subs.map((s) => s.close()))
    expect(a1.deliveries.length).toBeGreaterThan(0)
    expect(a2.deliveries.length).toBeGreaterThan(0)
  })

  it('replays from the beginning or from a time for a new group', async () => {
    const channel = { name: uniq('replay'), kind: 'topic' as const }
    const before = Array.from({ length: 5 }, () => event('com.test.old'))
    await t.publish(channel, before)
    await new Promise((r) => setTimeout(r, 50))
    const since = new Date()
    await new Promise((r) => setTimeout(r, 50))
    const after = Array.from({ length: 3 }, () => event('com.test.new'))
    await t.publish(channel, after)
    const all = recorder()
    const recent = recorder()
    const latest = recorder()
    const subs = [
      await t.subscribe(channel, 'from-start', all.handler, { maxInFlight: 4, from: 'earliest' }),
      await t.subscribe(channel, 'from-time', recent.handler, { maxInFlight: 4, from: { time: since } }),
      await t.subscribe(channel, 'from-now', latest.handler, { maxInFlight: 4 }),
    ]
    await waitFor('replays', () => ids(all.deliveries).size === 8 && ids(recent.deliveries).size === 3)
    await new Promise((r) => setTimeout(r, 300))
    await Promise.all(subs.map((s) => s.close()))
    expect(ids(recent.deliveries)).toEqual(new Set(after.map((e) => e.id)))
    expect(latest.deliveries).toHaveLength(0)
  })

  it('a temporary channel is gone after its subscription closes', async () => {
    const channel = { name: uniq('reply'), kind: 'queue' as const }
    const { deliveries, handler } = recorder()
    const sub = await t.subscribe(channel, channel.name, handler, { maxInFlight: 4, temporary: true })
    await t.publish(channel, [event('com.test.reply')])
    await waitFor('reply', () => deliveries.length === 1)
    expect(await admin.listTopics()).toContain(channel.name)
    await sub.close()
    await waitFor('topic deleted', async () => !(await admin.listTopics()).includes(channel.name), 10_000)
  })
})

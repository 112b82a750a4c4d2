import { createBus, MessageTooLargeError, type OmnibusError } from '@omnibus/core'
import { createEvent, GuardedTransport } from '@omnibus/core/adapter'
import { afterEach, describe, expect, test } from 'vitest'
import { groupQueueName, type RabbitMQTransport, rabbitmqTransport } from '../src/index.js'
import { closeAll, collector, connected, RABBITMQ_URL, unique, waitFor, withRaw } from './helpers.js'

const open: RabbitMQTransport[] = []
afterEach(async () => {
  await closeAll(...open.splice(0))
})
async function transport(options: Parameters<typeof connected>[0] = {}): Promise<RabbitMQTransport> {
  const t = await connected(options)
  open.push(t)
  return t
}
const event = (data: unknown = { ok: true }) =>
  createEvent({ type: 'com.example.behaviour', source: '/t', data })
const queueDepth = (queue: string) => withRaw(async (ch) => (await ch.checkQueue(queue)).messageCount)

describe('rabbitmq provisioning', () => {
  test('a queue channel keeps what is published before anyone subscribes', async () => {
    const t = await transport()
    const channel = { name: unique('commands'), kind: 'queue' as const }
    for (let i = 0; i < 5; i++) await t.publish(channel, [event({ i })])
    await waitFor('condition', () => true)
    expect(await queueDepth(channel.name)).toBe(5)
    const sink = collector()
    const sub = await t.subscribe(channel, channel.name, sink.handler, { maxInFlight: 2 })
    await waitFor('five commands', () => sink.got.length === 5, 10_000)
    await sub.close()
    expect(sink.events().map((e) => (e.data as { i: number }).i)).toEqual([0, 1, 2, 3, 4])
  })

  test('a provisioned group collects events while nobody consumes', async () => {
    const t = await transport()
    const channel = { name: unique('events'), kind: 'topic' as const }
    await t.provision(channel, 'billing')
    await t.publish(channel, [event()])
    await waitFor('condition', () => true)
    expect(await queueDepth(groupQueueName(channel.name, 'billing'))).toBe(1)
  })

  test('declare: false makes a missing exchange or queue a CHANNEL_NOT_FOUND error, and works once they exist', async () => {
    const strict = await transport({ declare: false })
    const topic = { name: unique('missing'), kind: 'topic' as const }
    const queue = { name: unique('missing'), kind: 'queue' as const }
    const codeOf = (p: Promise<unknown>) =>
      p.then(
        () => 'resolved',
        (e: unknown) => (e as OmnibusError).code,
      )
    expect(await codeOf(strict.publish(topic, [event()]))).toBe('CHANNEL_NOT_FOUND')
    expect(await codeOf(strict.publish(queue, [event()]))).toBe('CHANNEL_NOT_FOUND')
    expect(await codeOf(strict.subscribe(topic, 'g', async () => {}, { maxInFlight: 1 }))).toBe(
      'CHANNEL_NOT_FOUND',
    )
    // The error's own message names the missing resource, its channel and group, and what to do.
    await expect(strict.publish(queue, [event()])).rejects.toThrow(
      `durable queue "${queue.name}" of channel "${queue.name}" does not exist and provisioning is off`,
    )
    await expect(strict.publish(topic, [event()])).rejects.toThrow(
      `topic exchange "${topic.name}" of channel "${topic.name}" does not exist`,
    )
    await expect(strict.provision(topic, 'g')).rejects.toThrow(/create it, or turn provisioning on/)
    // With the exchange there, the group's queue is what is missing, and the error says so.
    await withRaw((ch) => ch.assertExchange(topic.name, 'topic', { durable: true }))
    await expect(strict.subscribe(topic, 'g', async () => {}, { maxInFlight: 1 })).rejects.toThrow(
      `queue "${topic.name}::g" of group "g" on channel "${topic.name}"`,
    )
    // The same transport still works for what exists (a failed check must not break its channels).
    const lenient = await transport()
    await lenient.provision(topic, 'g')
    await lenient.provision(queue, queue.name)
    const sink = collector()
    const sub = await strict.subscribe(topic, 'g', sink.handler, { maxInFlight: 1 })
    await strict.publish(topic, [event()])
    await strict.publish(queue, [event()])
    await waitFor('the event', () => sink.got.length === 1, 10_000)
    await sub.close()
    expect(await queueDepth(queue.name)).toBe(1)
  })

  test('a temporary (reply) queue is removed when its subscription closes', async () => {
    const t = await transport()
    const channel = { name: unique('reply'), kind: 'queue' as const }
    const sub = await t.subscribe(channel, channel.name, async () => {}, { maxInFlight: 4, temporary: true })
    expect(await queueDepth(channel.name)).toBe(0)
    // Another transport (the answering side) publishes into it without redeclaring it.
    const other = await transport()
    await other.publish(channel, [event()])
    await sub.close()
    const gone = await withRaw((ch) =>
      ch.checkQueue(channel.name).then(
        () => false,
        () => true,
      ),
    )
    expect(gone).toBe(true)
  })
})

describe('rabbitmq limits and failures', () => {
  test('an event over maxMessageBytes rejects before sending, naming the limit', async () => {
    const t = rabbitmqTransport({ url: RABBITMQ_URL, maxMessageBytes: 2000 })
    const guarded = new GuardedTransport(t, 'small')
    const channel = { name: unique('big'), kind: 'queue' as const }
    await guarded.provision(channel, channel.name)
    const error = await guarded.publish(channel, [event({ blob: 'x'.repeat(3000) })]).catch((e: unknown) => e)
    await guarded.close()
    expect(error).toBeInstanceOf(MessageTooLargeError)
    expect((error as Error).message).toMatch(/limit of 2000 bytes/)
    expect(await queueDepth(channel.name)).toBe(0)
  })

  test('an unreachable broker fails connect with TRANSPORT_UNAVAILABLE', async () => {
    const t = rabbitmqTransport({ url: 'amqp://guest:guest@127.0.0.1:1', connectTimeoutMs: 2000 })
    await expect(t.connect()).rejects.toMatchObject({ code: 'TRANSPORT_UNAVAILABLE' })
  })

  test('bad options name the offending key', () => {
    expect(() => rabbitmqTransport({ mode: 'text' as 'binary' })).toThrow(/transports\.rabbitmq\.mode/)
    expect(() => rabbitmqTransport({ url: 'http://x' })).toThrow(/transports\.rabbitmq\.url/)
    expect(() => rabbitmqTransport({ prefetch: 0 })).toThrow(/transports\.rabbitmq\.prefetch/)
  })
})

describe('rabbitmq delivery', () => {
  test.each([
    ['classic', false],
    ['quorum', true],
  ] as const)('a rejected delivery comes back with its delivery count (%s queue)', async (_kind, quorum) => {
    const t = await transport({ quorum })
    const channel = { name: unique('redeliver'), kind: 'queue' as const }
    const counts: number[] = []
    const sub = await t.subscribe(
      channel,
      channel.name,
      async (d) => {
        counts.push(d.deliveryCount)
        if (counts.length === 1) throw new Error('first attempt fails')
      },
      { maxInFlight: 1 },
    )
    await t.publish(channel, [event()])
    await waitFor('the redelivery', () => counts.length === 2, 10_000)
    await sub.close()
    expect(counts).toEqual([1, 2])
    expect(await queueDepth(channel.name)).toBe(0)
  })

  test('never more than maxInFlight deliveries unsettled per subscription', async () => {
    const t = await transport()
    const channel = { name: unique('flow'), kind: 'queue' as const }
    let running = 0
    let peak = 0
    let done = 0
    const sub = await t.subscribe(
      channel,
      channel.name,
      async () => {
        peak = Math.max(peak, ++running)
        await new Promise((resolve) => setTimeout(resolve, 5))
        running--
        done++
      },
      { maxInFlight: 3 },
    )
    await t.publish(
      channel,
      Array.from({ length: 60 }, (_, i) => event({ i })),
    )
    await waitFor('sixty deliveries', () => done === 60, 10_000)
    await sub.close()
    expect(peak).toBe(3)
  })

  test('coalesced acks: deliveries settled out of order and some rejected are each acked once, nothing else comes back', async () => {
    const t = await transport()
    const channel = { name: unique('acks'), kind: 'queue' as const }
    const total = 300
    const rejectOnce = (i: number) => i % 17 === 5
    const ok = new Map<number, number>()
    const redelivered: number[] = []
    const sub = await t.subscribe(
      channel,
      channel.name,
      async (d) => {
        const { i } = d.event!.data as { i: number }
        if (d.deliveryCount > 1) redelivered.push(i)
        // Mixed handler times, so later deliveries often settle before earlier ones.
        const wait = (i * 7) % 5
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
        if (rejectOnce(i) && d.deliveryCount === 1) throw new Error('first attempt fails')
        ok.set(i, (ok.get(i) ?? 0) + 1)
      },
      { maxInFlight: 16 },
    )
    await t.publish(
      channel,
      Array.from({ length: total }, (_, i) => event({ i })),
    )
    await waitFor('every delivery handled', () => ok.size === total, 20_000)
    await new Promise((resolve) => setTimeout(resolve, 300))
    await sub.close()
    // A wrong multiple-ack would fail the channel and the broker would redeliver what it held.
    const expected = Array.from({ length: total }, (_, i) => i).filter(rejectOnce)
    expect(redelivered.sort((a, b) => a - b)).toEqual(expected)
    expect([...ok.values()].every((n) => n === 1)).toBe(true)
    expect(await queueDepth(channel.name)).toBe(0)
  })

  test('per-key order with singleActiveConsumer: 16 keys, three members of one group', async () => {
    const type = unique('com.example.order')
    const group = unique('order')
    const seen = new Map<string, number[]>()
    const buses = []
    for (let i = 0; i < 3; i++) {
      const bus = await createBus({
        service: `order-${i}`,
        transports: { t: rabbitmqTransport({ url: RABBITMQ_URL, singleActiveConsumer: true }) },
        delivery: { maxInFlight: 16 },
      })
      bus.on<{ key: string; n: number }>(
        type,
        async (e) => {
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 3))
          seen.set(e.data!.key, [...(seen.get(e.data!.key) ?? []), e.data!.n])
        },
        { group },
      )
      await bus.start()
      buses.push(bus)
    }
    const keys = 16
    const perKey = 40
    for (let n = 0; n < perKey; n++) {
      await buses[0]!.publish(
        Array.from({ length: keys }, (_, k) => ({
          type,
          partitionkey: `key-${k}`,
          data: { key: `key-${k}`, n },
        })),
      )
    }
    const expected = Array.from({ length: perKey }, (_, n) => n)
    await waitFor(
      'all',
      () => [...seen.values()].reduce((sum, l) => sum + l.length, 0) === keys * perKey,
      30_000,
    )
    await Promise.all(buses.map((b) => b.stop()))
    for (let k = 0; k < keys; k++) expect(seen.get(`key-${k}`), `key-${k}`).toEqual(expected)
  })
})

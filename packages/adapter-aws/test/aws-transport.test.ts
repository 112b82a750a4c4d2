import { GetQueueUrlCommand } from '@aws-sdk/client-sqs'
import { OmnibusError } from '@omnibus/core'
import { createEvent, type Delivery, GuardedTransport, structuredSize } from '@omnibus/core/adapter'
import { afterAll, describe, expect, it } from 'vitest'
import { awsTransport, MAX_MESSAGE_BYTES, resourceName } from '../src/index.js'
import { collector, newSns, newSqs, testOptions, uid, waitFor } from './helpers.js'

const sqs = newSqs()
const transport = awsTransport(testOptions())
await transport.connect()

afterAll(async () => {
  await transport.close()
  sqs.destroy()
})

const event = (i: number, extra: Record<string, string> = {}) =>
  createEvent({ type: 't.e', source: 'urn:test', data: { i }, ...extra })

describe('aws transport on moto', () => {
  it('with provision: false, a missing channel is CHANNEL_NOT_FOUND; one made by others is used', async () => {
    const lookOnly = awsTransport(testOptions({ provision: false }))
    await lookOnly.connect()
    const topic = { name: uid('noprov.topic'), kind: 'topic' as const }
    const queue = { name: uid('noprov.queue'), kind: 'queue' as const }
    const noop = async () => {}
    await expect(lookOnly.publish(topic, [event(1)])).rejects.toMatchObject({ code: 'CHANNEL_NOT_FOUND' })
    await expect(lookOnly.publish(queue, [event(1)])).rejects.toMatchObject({ code: 'CHANNEL_NOT_FOUND' })
    const error = await lookOnly
      .subscribe(queue, queue.name, noop, { maxInFlight: 1 })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OmnibusError)
    expect((error as OmnibusError).code).toBe('CHANNEL_NOT_FOUND')
    expect((error as OmnibusError).message).toMatch(/^\[omnibus\] \[aws\] .*provision: false/)
    // Made by a transport that provisions, then used by the one that does not.
    await transport.provision(topic, 'g')
    await transport.provision(queue, queue.name)
    const { got, handler } = collector()
    const subs = [
      await lookOnly.subscribe(topic, 'g', handler, { maxInFlight: 4 }),
      await lookOnly.subscribe(queue, queue.name, handler, { maxInFlight: 4 }),
    ]
    await lookOnly.publish(topic, [event(1)])
    await lookOnly.publish(queue, [event(2)])
    await waitFor('both deliveries', () => got.length === 2)
    await Promise.all(subs.map((s) => s.close()))
    await lookOnly.close()
  })

  it('rejects an oversize event before sending, naming the limit, and carries one just under it', async () => {
    const guarded = new GuardedTransport(transport, 'main')
    const channel = { name: uid('size'), kind: 'queue' as const }
    const big = createEvent({
      type: 't.e',
      source: 'urn:test',
      data: { blob: 'x'.repeat(MAX_MESSAGE_BYTES) },
    })
    const error = await guarded.publish(channel, [big]).catch((e: unknown) => e)
    expect((error as OmnibusError).code).toBe('MESSAGE_TOO_LARGE')
    expect((error as Error).message).toContain('262144')
    // Nothing was sent: the queue was not even made.
    const missing = sqs.send(new GetQueueUrlCommand({ QueueName: resourceName('', channel.name, false) }))
    await expect(missing).rejects.toMatchObject({ name: 'QueueDoesNotExist' })
    // Just under the limit: body plus the content-type attribute would be over it, so the attribute is left off.
    const id = uid('edge')
    const overhead = structuredSize(createEvent({ id, type: 't.e', source: 'urn:test', data: { blob: '' } }))
    const edge = createEvent({
      id,
      type: 't.e',
      source: 'urn:test',
      data: { blob: 'y'.repeat(MAX_MESSAGE_BYTES - overhead - 10) },
    })
    await guarded.publish(channel, [edge, event(2)])
    const { got, handler } = collector()
    const sub = await transport.subscribe(channel, channel.name, handler, { maxInFlight: 2 })
    await waitFor('2 deliveries', () => got.length === 2)
    await sub.close()
    expect((got.find((d) => d.event?.id === edge.id)!.event!.data as { blob: string }).blob).toHaveLength(
      MAX_MESSAGE_BYTES - overhead - 10,
    )
  })

  it('redelivers a rejected delivery promptly, counting deliveries', async () => {
    const channel = { name: uid('nack'), kind: 'topic' as const }
    const seen: Delivery[] = []
    const sub = await transport.subscribe(
      channel,
      'g',
      async (d) => {
        seen.push(d)
        if (d.deliveryCount < 2) throw new Error('not yet')
      },
      { maxInFlight: 1 },
    )
    const started = Date.now()
    await transport.publish(channel, [event(1)])
    await waitFor('a second delivery', () => seen.length === 2, 20_000)
    // Under the 30 s visibility timeout: the adapter gave it back, not the timeout (with room for
    // a loaded machine's slow moto).
    expect(Date.now() - started).toBeLessThan(20_000)
    expect(seen.map((d) => d.deliveryCount)).toEqual([1, 2])
    await sub.close()
  })

  it('keeps a slow handler’s message invisible past the visibility timeout', async () => {
    const slow = awsTransport(testOptions({ visibilityTimeout: 3 }))
    await slow.connect()
    const channel = { name: uid('slow'), kind: 'queue' as const }
    let calls = 0
    let done = false
    const sub = await slow.subscribe(
      channel,
      channel.name,
      async () => {
        calls++
        await new Promise((resolve) => setTimeout(resolve, 7_000))
        done = true
      },
      { maxInFlight: 2 },
    )
    await slow.publish(channel, [event(1)])
    await waitFor('the slow handler to finish', () => done, 15_000)
    await sub.close()
    expect(calls).toBe(1)
    await slow.close()
  }, 20_000)

  it('never has more than maxInFlight deliveries unsettled', async () => {
    const channel = { name: uid('flow'), kind: 'queue' as const }
    await transport.publish(
      channel,
      Array.from({ length: 60 }, (_, i) => event(i)),
    )
    let running = 0
    let peak = 0
    let handled = 0
    const sub = await transport.subscribe(
      channel,
      channel.name,
      async () => {
        peak = Math.max(peak, ++running)
        await new Promise((resolve) => setTimeout(resolve, 20))
        running--
        handled++
      },
      { maxInFlight: 3 },
    )
    await waitFor('60 handled', () => handled >= 60, 20_000)
    await sub.close()
    expect(peak).toBe(3)
  })

  it('removes a temporary queue when its subscription closes', async () => {
    const channel = { name: uid('reply'), kind: 'queue' as const }
    const { got, handler } = collector()
    const sub = await transport.subscribe(channel, channel.name, handler, { maxInFlight: 8, temporary: true })
    await transport.publish(channel, [event(1)])
    await waitFor('the reply', () => got.length === 1)
    await sub.close()
    const name = resourceName('', channel.name, false)
    const gone = sqs.send(new GetQueueUrlCommand({ QueueName: name }))
    await expect(gone).rejects.toMatchObject({ name: 'QueueDoesNotExist' })
  })

  it('coalesces concurrent publishes into batches and loses none', async () => {
    const sns = newSns()
    let requests = 0
    sns.middlewareStack.add(
      (next) => async (args) => {
        requests++
        return next(args)
      },
      { step: 'initialize' },
    )
    const counted = awsTransport(testOptions({ snsClient: sns }))
    const channel = { name: uid('burst'), kind: 'topic' as const }
    const groups = ['a', 'b']
    const seen = new Map(groups.map((g) => [g, new Set<string>()]))
    const subs = await Promise.all(
      groups.map((g) =>
        counted.subscribe(channel, g, async (d) => void seen.get(g)!.add(d.event!.id), { maxInFlight: 32 }),
      ),
    )
    requests = 0
    // Modest: moto's cost per message grows with the depth of the queue it lands in.
    const events = Array.from({ length: 300 }, (_, i) => event(i))
    await Promise.all(events.map((e) => counted.publish(channel, [e])))
    // 300 separate publishes left in batches of up to 10.
    expect(requests).toBeLessThanOrEqual(40)
    for (const g of groups) await waitFor(`group ${g} to get 300`, () => seen.get(g)!.size === 300, 60_000)
    await Promise.all(subs.map((s) => s.close()))
    await counted.close()
    sns.destroy()
  }, 90_000)

  it('keeps per-key order on FIFO channels, with several members and deduplication by id', async () => {
    // Short polling: moto's long poll checks FIFO group locks against a snapshot taken when it began.
    const fifo = awsTransport(testOptions({ fifo: true, waitTimeSeconds: 0 }))
    await fifo.connect()
    expect(fifo.capabilities.ordering).toBe(true)
    const channel = { name: uid('fifo'), kind: 'topic' as const }
    await fifo.provision(channel, 'g')
    const keys = ['k1', 'k2', 'k3', 'k4']
    const events = Array.from({ length: 200 }, (_, i) =>
      createEvent({ type: 't.o', source: 'urn:test', partitionkey: keys[i % keys.length]!, data: { i } }),
    )
    await fifo.publish(channel, events)
    await fifo.publish(channel, [events[0]!]) // a duplicate id: dropped by FIFO deduplication
    const order = new Map(keys.map((k) => [k, [] as number[]]))
    let total = 0
    const member = async (d: Delivery) => {
      const e = d.event!
      order.get(e.partitionkey as string)!.push((e.data as { i: number }).i)
      total++
    }
    const subs = [
      await fifo.subscribe(channel, 'g', member, { maxInFlight: 4 }),
      await fifo.subscribe(channel, 'g', member, { maxInFlight: 4 }),
    ]
    await waitFor('200 deliveries', () => total >= 200, 30_000)
    await new Promise((resolve) => setTimeout(resolve, 1500)) // would a duplicate show up?
    await Promise.all(subs.map((s) => s.close()))
    expect(total).toBe(200)
    for (const [k, list] of order) {
      expect(list).toEqual([...list].sort((a, b) => a - b))
      expect(list).toHaveLength(50)
      expect(k).toBeDefined()
    }
    await fifo.close()
  }, 60_000)
})

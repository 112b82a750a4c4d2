import { createEvent, type Delivery } from '@omnibus/core/adapter'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type GcpTransport, resourceName } from '../src/index.js'
import { channel, makeTransport, rawClient, unique, waitFor } from './helpers.js'

const event = (n: number) =>
  createEvent({ type: 'com.acme.provisioned', source: 'urn:test:gcp', data: { n } })

describe('gcp resource names', () => {
  const valid = /^[A-Za-z][A-Za-z0-9._~+%-]{2,254}$/

  it('keeps valid names readable and makes every other name valid, deterministically', () => {
    expect(resourceName('', ['orders'])).toBe('orders')
    expect(resourceName('prod-', ['orders', 'billing'])).toBe('prod-orders~billing')
    for (const raw of ['a', '1orders', 'googorders', 'ordérs/with space', 'x'.repeat(300), 'com.acme.*']) {
      const name = resourceName('', [raw])
      expect(name).toMatch(valid)
      expect(resourceName('', [raw])).toBe(name)
    }
  })

  it('never maps two different inputs to one name', () => {
    const names = [
      resourceName('', ['a.b', 'c']),
      resourceName('', ['a', 'b.c']),
      resourceName('', ['a~b', 'c']),
      resourceName('', ['a', 'b~c']),
      resourceName('', ['a b']),
      resourceName('', ['a_b']),
      resourceName('', ['a/b']),
      resourceName('', ['x'.repeat(300)]),
      resourceName('', [`${'x'.repeat(300)}y`]),
    ]
    expect(new Set(names).size).toBe(names.length)
  })
})

describe('gcp provisioning against the emulator', () => {
  let transport: GcpTransport
  const pubsub = rawClient()

  beforeAll(async () => {
    transport = makeTransport()
    await transport.connect()
  })
  afterAll(async () => {
    await transport.close()
    await pubsub.close()
  })

  it('creates a queue channel on publish, so messages wait for a later consumer', async () => {
    const ch = channel('queue')
    await transport.publish(ch, [event(1)])
    // Provisioning again (ALREADY_EXISTS) is fine.
    await transport.provision(ch, ch.name)
    const [exists] = await pubsub.subscription(transport.subscriptionName(ch, ch.name)).exists()
    expect(exists).toBe(true)
    const got: Delivery[] = []
    const sub = await transport.subscribe(ch, ch.name, async (d) => void got.push(d), { maxInFlight: 1 })
    await waitFor('the waiting message', () => got.length === 1)
    await sub.close()
  })

  it('names channels with characters Pub/Sub refuses validly, with the prefix', async () => {
    const prefixed = makeTransport({ namePrefix: 'omni-' })
    await prefixed.connect()
    const ch = { name: unique('1 weird/channel*name'), kind: 'topic' as const }
    const group = 'group with spaces'
    await prefixed.provision(ch, group)
    const topic = prefixed.topicName(ch)
    expect(topic.startsWith('omni-')).toBe(true)
    expect((await pubsub.topic(topic).exists())[0]).toBe(true)
    expect((await pubsub.subscription(prefixed.subscriptionName(ch, group)).exists())[0]).toBe(true)
    await prefixed.close()
  })

  it('with provision: false, a missing channel is a CHANNEL_NOT_FOUND error, an existing one works', async () => {
    const strict = makeTransport({ provision: false })
    await strict.connect()
    const ch = channel('topic')
    const group = unique('g')
    await expect(strict.publish(ch, [event(1)])).rejects.toMatchObject({ code: 'CHANNEL_NOT_FOUND' })
    await expect(strict.subscribe(ch, group, async () => {}, { maxInFlight: 1 })).rejects.toMatchObject({
      code: 'CHANNEL_NOT_FOUND',
      message: expect.stringContaining('provision: false'),
    })
    await expect(strict.provision(ch, group)).rejects.toMatchObject({ code: 'CHANNEL_NOT_FOUND' })
    const [topic] = await pubsub.createTopic(strict.topicName(ch))
    await topic.createSubscription(strict.subscriptionName(ch, group))
    const got: Delivery[] = []
    const sub = await strict.subscribe(ch, group, async (d) => void got.push(d), { maxInFlight: 1 })
    await strict.publish(ch, [event(2)])
    await waitFor('the message', () => got.length === 1)
    await sub.close()
    await strict.close()
  })

  it('removes a temporary channel (topic and subscription) when its subscription closes', async () => {
    const ch = channel('queue', 'reply')
    const got: Delivery[] = []
    const sub = await transport.subscribe(ch, ch.name, async (d) => void got.push(d), {
      maxInFlight: 8,
      temporary: true,
    })
    await transport.publish(ch, [event(1)])
    await waitFor('the reply', () => got.length === 1)
    await sub.close()
    expect((await pubsub.subscription(transport.subscriptionName(ch, ch.name)).exists())[0]).toBe(false)
    expect((await pubsub.topic(transport.topicName(ch)).exists())[0]).toBe(false)
  })

  it('gives each group of a topic channel every message, and shares a group among its members', async () => {
    const ch = channel('topic')
    const [g1, g2] = [unique('g1'), unique('g2')]
    await transport.provision(ch, g1)
    await transport.provision(ch, g2)
    const seen = { a: 0, b: 0, g2: 0 }
    const subs = await Promise.all([
      transport.subscribe(ch, g1, async () => void seen.a++, { maxInFlight: 2 }),
      transport.subscribe(ch, g1, async () => void seen.b++, { maxInFlight: 2 }),
      transport.subscribe(ch, g2, async () => void seen.g2++, { maxInFlight: 10 }),
    ])
    await transport.publish(
      ch,
      Array.from({ length: 100 }, (_, i) => event(i)),
    )
    await waitFor('every message in both groups', () => seen.a + seen.b >= 100 && seen.g2 >= 100)
    await Promise.all(subs.map((s) => s.close()))
    expect(seen.g2).toBe(100)
    expect(seen.a + seen.b).toBe(100)
  })
})

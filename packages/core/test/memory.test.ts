import { CloudEvent } from 'cloudevents'
import { describe, expect, it } from 'vitest'
import {
  createEvent,
  type Decoded,
  type Delivery,
  decodeMessage,
  encodeStructured,
  STRUCTURED_CONTENT_TYPE,
} from '../src/adapter/index.js'
import { type Envelope, MemoryBroker } from '../src/index.js'
import { DEFAULT_RETAINED_MESSAGES } from '../src/transport/memory-broker.js'
import { MemoryTransport } from '../src/transport/memory-transport.js'

/** Publishes each event through a fresh memory transport and returns what its subscriber was handed. */
async function roundTrip(events: Envelope[], afterPublish = () => {}): Promise<Delivery[]> {
  const transport = new MemoryTransport({ broker: new MemoryBroker() })
  const channel = { name: `memory-test-${Math.random().toString(36).slice(2)}`, kind: 'queue' as const }
  const received: Delivery[] = []
  const subscription = await transport.subscribe(
    channel,
    channel.name,
    async (delivery) => void received.push(delivery),
    { maxInFlight: 8 },
  )
  for (const event of events) await transport.publish(channel, [event])
  afterPublish()
  const deadline = Date.now() + 5000
  while (received.length < events.length) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the deliveries')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  await subscription.close()
  return received
}

const viaWire = (event: Envelope): Decoded =>
  decodeMessage({ body: encodeStructured(event), headers: { 'content-type': STRUCTURED_CONTENT_TYPE } }, [])

describe('the memory transport', () => {
  it('hands over what the structured wire form would, as fresh objects', async () => {
    const base = { type: 't', source: 'urn:test' }
    const json = createEvent({ ...base, data: { text: '漢字 🚀', list: [1, null] } })
    const events: Envelope[] = [
      json,
      createEvent({ ...base, data: 'plain "text"\n', extensions: { count: 7, flag: false } }),
      createEvent({ ...base, data: Uint8Array.from([0, 255, 7]) }),
      createEvent({ ...base }),
      createEvent({ ...base, data: null }),
      // A CloudEvent made by the cloudevents package itself.
      new CloudEvent({ ...base, data: { n: 1 } }),
    ]
    const received = await roundTrip(events)
    for (const [i, event] of events.entries()) {
      const delivered = received[i]!.event!
      expect(delivered).toBeInstanceOf(CloudEvent)
      expect(Object.isFrozen(delivered)).toBe(true)
      expect({ ...delivered }).toEqual({ ...viaWire(event).event })
      if (typeof event.data === 'object' && event.data !== null) expect(delivered.data).not.toBe(event.data)
    }
    // An attribute that is no CloudEvents value (an object) arrives malformed, as from the wire.
    const [odd] = await roundTrip([new CloudEvent({ ...base, nested: { a: 1 } }, false)])
    expect(odd!.malformed?.reason).toMatch(/nested/)
  })

  it('keeps what was published, whatever the publisher changes afterwards', async () => {
    const bytes = Uint8Array.from([1, 2, 3])
    const data = { n: 1 }
    const [b, j] = await roundTrip(
      [createEvent({ type: 't', source: 's', data: bytes }), createEvent({ type: 't', source: 's', data })],
      () => {
        bytes[0] = 99
        data.n = 99
      },
    )
    expect([...(b!.event!.data as Uint8Array)]).toEqual([1, 2, 3])
    expect(j!.event!.data).toEqual({ n: 1 })
  })

  it('hands an envelope a receiver would reject over as malformed, as the wire would', async () => {
    const broken = { specversion: '1.0', type: 't', id: 'no-source' } as unknown as Envelope
    const [delivery] = await roundTrip([broken])
    expect(delivery!.malformed?.reason).toMatch(/"source"/)
    expect(viaWire(broken).malformed?.reason).toBe(delivery!.malformed?.reason)
  })
})

describe('the memory broker retention', () => {
  const topic = () => ({ name: `retention-${Math.random().toString(36).slice(2)}`, kind: 'topic' as const })

  /** The ids a group started from the beginning gets, once `count` have arrived. */
  async function replayed(
    transport: MemoryTransport,
    channel: ReturnType<typeof topic>,
    group: string,
    count: number,
  ) {
    const ids: string[] = []
    const subscription = await transport.subscribe(
      channel,
      group,
      async (delivery) => void ids.push(delivery.event!.id),
      { maxInFlight: 4, from: 'earliest' },
    )
    const deadline = Date.now() + 5000
    while (ids.length < count) {
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${count} deliveries, got ${ids.length}`)
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    await subscription.close()
    return ids
  }

  const publish = async (
    transport: MemoryTransport,
    channel: ReturnType<typeof topic>,
    n: number,
    tag = 'e',
  ) => {
    const events = Array.from({ length: n }, (_, i) =>
      createEvent({ type: 't', source: 's', id: `${tag}${i}` }),
    )
    await transport.publish(channel, events)
    return events.map((e) => e.id)
  }

  it('replays only the latest messages to a new group, but keeps what an existing group waits for', async () => {
    const transport = new MemoryTransport({ broker: new MemoryBroker({ retainMessages: 3 }) })
    const channel = topic()
    await transport.provision(channel, 'early')
    const ids = await publish(transport, channel, 5)
    expect(await replayed(transport, channel, 'early', 5)).toEqual(ids)
    expect(await replayed(transport, channel, 'late', 3)).toEqual(ids.slice(2))
  })

  it('keeps the order of the latest messages over many more than it retains', async () => {
    const transport = new MemoryTransport({ broker: new MemoryBroker({ retainMessages: 10 }) })
    const channel = topic()
    const ids = await publish(transport, channel, 5000)
    expect(await replayed(transport, channel, 'late', 10)).toEqual(ids.slice(-10))
  })

  it('keeps the latest DEFAULT_RETAINED_MESSAGES by default', async () => {
    const transport = new MemoryTransport({ broker: new MemoryBroker() })
    const channel = topic()
    const ids = await publish(transport, channel, DEFAULT_RETAINED_MESSAGES + 5)
    const got = await replayed(transport, channel, 'late', DEFAULT_RETAINED_MESSAGES)
    expect(got).toEqual(ids.slice(5))
  })

  it('keeps everything with Infinity and nothing with 0', async () => {
    const all = new MemoryTransport({
      broker: new MemoryBroker({ retainMessages: Number.POSITIVE_INFINITY }),
    })
    const channel = topic()
    const ids = await publish(all, channel, 20_001)
    expect(await replayed(all, channel, 'late', ids.length)).toEqual(ids)

    const none = new MemoryTransport({ broker: new MemoryBroker({ retainMessages: 0 }) })
    const other = topic()
    await publish(none, other, 3, 'before')
    const got: string[] = []
    const late = await none.subscribe(other, 'late', async (d) => void got.push(d.event!.id), {
      maxInFlight: 1,
      from: 'earliest',
    })
    const after = await publish(none, other, 1, 'after')
    const deadline = Date.now() + 5000
    while (got.length < 1) {
      if (Date.now() > deadline) throw new Error('timed out waiting for the delivery')
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    await late.close()
    // Nothing from before it started: the first delivery is the one published after.
    expect(got).toEqual(after)
  })

  it('rejects a retention that is not a whole number of messages', () => {
    for (const retainMessages of [-1, 1.5, Number.NaN]) {
      expect(() => new MemoryBroker({ retainMessages })).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID' }),
      )
    }
  })
})

describe('the memory transport scheduling', () => {
  const topic = () => ({ name: `turns-${Math.random().toString(36).slice(2)}`, kind: 'topic' as const })
  const event = () => createEvent({ type: 't', source: 's' })

  it('delivers while a publisher awaits each publish in a loop, not only after it', async () => {
    const transport = new MemoryTransport({ broker: new MemoryBroker() })
    const channel = topic()
    let handled = 0
    const subscription = await transport.subscribe(channel, 'g', async () => void handled++, {
      maxInFlight: 4,
    })
    const seenWhilePublishing: number[] = []
    for (let i = 0; i < 20; i++) {
      await transport.publish(channel, [event(), event(), event()])
      seenWhilePublishing.push(handled)
    }
    await subscription.close()
    // Each batch was handled before the next went out, as with a broker whose confirm takes a turn.
    expect(seenWhilePublishing).toEqual(seenWhilePublishing.map((_, i) => (i + 1) * 3))
  })

  it('lets timers run while a handler publishes to its own channel without end', async () => {
    const transport = new MemoryTransport({ broker: new MemoryBroker() })
    const channel = topic()
    let handled = 0
    let stop = false
    const subscription = await transport.subscribe(
      channel,
      'g',
      async () => {
        handled++
        // Not awaited: the next delivery must not wait for this one's confirm.
        if (!stop) void transport.publish(channel, [event()])
      },
      { maxInFlight: 1 },
    )
    await transport.publish(channel, [event()])
    // If deliveries never yielded, this timer would never fire and the test would time out.
    await new Promise((resolve) => setTimeout(resolve, 0))
    stop = true
    expect(handled).toBeGreaterThan(0)
    await subscription.close()
  })
})

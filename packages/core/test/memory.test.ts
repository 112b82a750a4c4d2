import { CloudEvent } from 'cloudevents'
import { describe, expect, it } from 'vitest'
import {
  createEvent,
  type Decoded,
  type Delivery,
  decodeMessage,
  type Envelope,
  encodeStructured,
  MemoryBroker,
  MemoryTransport,
  STRUCTURED_CONTENT_TYPE,
  withAttributes,
} from '../src/index.js'

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
  for (const event of events) await transport.publish(channel, event)
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
      // An attribute JSON would change (an object) goes the wire's way.
      withAttributes(json, { nested: { a: 1 } }),
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

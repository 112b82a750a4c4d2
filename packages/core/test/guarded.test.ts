import { describe, expect, it } from 'vitest'
import { type Channel, createEvent, GuardedTransport, type Transport } from '../src/adapter/index.js'
import { type Envelope, MessageTooLargeError, OmnibusError } from '../src/index.js'

/** A fake transport that records calls: enough to test the wrapper, never a stand-in for a broker. */
function fake() {
  const calls: string[] = []
  const transport: Transport = {
    name: 'fake',
    capabilities: { ordering: true, replay: false, maxMessageBytes: 500, durableAcrossRestart: true },
    connect: async () => void calls.push('connect'),
    publish: async (_c: Channel, es: readonly Envelope[]) =>
      void calls.push(`publish ${es.map((e) => e.id).join(',')}`),
    subscribe: async () => ({ close: async () => void calls.push('unsubscribe') }),
    close: async () => void calls.push('close'),
  }
  return { calls, guarded: new GuardedTransport(transport, 'main') }
}

const channel: Channel = { name: 'c', kind: 'topic' }
const ev = (id: string, extra = {}) => createEvent({ type: 't', source: 's', id, ...extra })

describe('the transport wrapper', () => {
  it('connects once, however many callers', async () => {
    const { calls, guarded } = fake()
    await Promise.all([guarded.connect(), guarded.connect(), guarded.publish(channel, [ev('1')])])
    expect(calls.filter((c) => c === 'connect')).toHaveLength(1)
  })

  it('hands a publish to the adapter in one call, in order, and never an empty one', async () => {
    const { calls, guarded } = fake()
    await guarded.publish(channel, [ev('1'), ev('2')])
    await guarded.publish(channel, [])
    expect(calls).toEqual(['connect', 'publish 1,2'])
  })

  it('rejects oversize events before anything is sent, naming the limit', async () => {
    const { calls, guarded } = fake()
    const error = await guarded
      .publish(channel, [ev('ok'), ev('big', { data: 'x'.repeat(600) })])
      .catch((e) => e)
    expect(error).toBeInstanceOf(MessageTooLargeError)
    expect(error.message).toContain('500')
    expect(calls).toEqual([])
  })

  it('counts exactly near the limit: an event whose rough bound is above it still goes', async () => {
    const { calls, guarded } = fake()
    // 100 escapes-free characters count 100 bytes, though the bound allows 6 each.
    const near = ev('near', { subject: 'y'.repeat(100), data: 'x'.repeat(200) })
    await guarded.publish(channel, [near])
    expect(calls).toContain('publish near')
  })

  it('closes subscriptions, then the transport, once; afterwards every call fails clearly', async () => {
    const { calls, guarded } = fake()
    await guarded.subscribe(channel, 'g', async () => {}, { maxInFlight: 1 })
    await Promise.all([guarded.close(), guarded.close()])
    expect(calls).toEqual(['connect', 'unsubscribe', 'close'])
    const error = await guarded.publish(channel, [ev('late')]).catch((e) => e)
    expect(error).toBeInstanceOf(OmnibusError)
    expect(error.code).toBe('TRANSPORT_CLOSED')
    expect(error.message).toMatch(/transport "main" is closed/)
  })

  it('does not close a transport that never connected', async () => {
    const { calls, guarded } = fake()
    await guarded.close()
    expect(calls).toEqual([])
  })
})

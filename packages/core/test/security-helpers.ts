import { type Channel, encodeStructured, type Instrumentation, type Transport } from '../src/adapter/index.js'
import { AccessDeniedError, type Envelope, type MemoryBroker, memoryTransport } from '../src/index.js'
import type { AuthorizationRecord } from '../src/security/index.js'

/**
 * A memory transport that records what reaches it, as the broker would hold it: channel names,
 * events, and each event's structured bytes as text. `deny` makes subscribing to a channel
 * fail FORBIDDEN, as a secured broker would.
 */
export function recorded(broker: MemoryBroker, deny?: (channel: Channel) => boolean) {
  const inner = memoryTransport({ broker })
  const channels = new Set<string>()
  const events: Envelope[] = []
  const wire: string[] = []
  const transport: Transport = {
    name: inner.name,
    capabilities: inner.capabilities,
    connect: () => inner.connect(),
    publish: (channel, batch) => {
      channels.add(channel.name)
      for (const e of batch) {
        events.push(e)
        wire.push(encodeStructured(e).toString('utf8'))
      }
      return inner.publish(channel, batch)
    },
    provision: (c, g, f) => inner.provision(c, g, f),
    subscribe: async (c, g, h, o) => {
      if (deny?.(c))
        throw new AccessDeniedError('FORBIDDEN', 'memory', c.name, `FORBIDDEN on channel "${c.name}"`)
      channels.add(c.name)
      return inner.subscribe(c, g, h, o)
    },
    close: () => inner.close(),
  }
  return { transport, channels, events, wire }
}

/** Instrumentation that only keeps the authorization records. */
export function auditRecords(): { instrumentation: Instrumentation; records: AuthorizationRecord[] } {
  const records: AuthorizationRecord[] = []
  return {
    records,
    instrumentation: {
      send: (_t, _k, events, publish) => publish(events),
      process: (_f, _e, _d, handle) => handle({ retrying() {}, deadLettered() {}, failed() {} }),
      query: (_t, _q, ask) => ask(),
      authorization: (r) => void records.push(r),
    },
  }
}

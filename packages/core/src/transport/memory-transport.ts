import { encodeStructured } from '../envelope/binding.js'
import type { Envelope } from '../envelope/envelope.js'
import { OmnibusError } from '../errors.js'
import { DEFAULT_RETAINED_MESSAGES, type Member, MemoryBroker, STRUCTURED_HEADERS } from './memory-broker.js'
import type {
  Capabilities,
  Channel,
  DeliveryHandler,
  StartPosition,
  SubscribeOptions,
  Subscription,
  Transport,
  TransportAdapter,
} from './transport.js'

const defaultBroker = new MemoryBroker()

let nextTurn: Promise<void> | undefined
/**
 * A publish is confirmed on the next turn of the event loop, as a broker's confirm
 * would arrive: a publisher awaiting each publish in a loop lets the deliveries of
 * what it published so far run in between. Publishes of one turn share one wait.
 */
const confirmed = (): Promise<void> =>
  (nextTurn ??= new Promise<void>((resolve) =>
    setImmediate(() => {
      nextTurn = undefined
      resolve()
    }),
  ))

export interface MemoryTransportOptions {
  /** The broker to share; transports made without one share a process-wide broker. */
  broker?: MemoryBroker
  /** Largest message in bytes of its structured JSON form. Default 1 MiB, like Kafka's default. */
  maxMessageBytes?: number
}

export const MEMORY = 'memory'

/** The in-process transport: the default for development and tests. */
export class MemoryTransport implements Transport {
  readonly name = MEMORY
  readonly capabilities: Capabilities
  readonly broker: MemoryBroker

  constructor(options: MemoryTransportOptions = {}) {
    this.broker = options.broker ?? defaultBroker
    this.capabilities = {
      ordering: true,
      replay: true,
      maxMessageBytes: options.maxMessageBytes ?? 1024 * 1024,
      durableAcrossRestart: false,
      notes: { restart: 'the memory transport has no broker process to restart' },
    }
  }

  async connect(): Promise<void> {}

  async publish(channel: Channel, events: readonly Envelope[]): Promise<void> {
    if (channel.mustExist && !this.broker.has(channel.name)) {
      throw new OmnibusError('CHANNEL_NOT_FOUND', `[memory] channel "${channel.name}" does not exist`)
    }
    // Stored synchronously, in order: no turn of the event loop per event. Encoded once, in the
    // structured binding every adapter uses, and shared by every group it goes to.
    for (const event of events) {
      const key = typeof event.partitionkey === 'string' ? event.partitionkey : undefined
      this.broker.append(channel, encodeStructured(event), STRUCTURED_HEADERS, key)
    }
    return confirmed()
  }

  async provision(channel: Channel, group: string, from?: StartPosition): Promise<void> {
    this.broker.channel(channel).group(group, from)
  }

  async subscribe(
    channel: Channel,
    group: string,
    handler: DeliveryHandler,
    options: SubscribeOptions,
  ): Promise<Subscription> {
    const state = this.broker.channel(channel).group(group, options.from)
    const member: Member = {
      handler,
      maxInFlight: Math.max(1, options.maxInFlight),
      inFlight: 0,
      active: true,
    }
    state.members.push(member)
    state.schedule()
    return {
      close: async () => {
        member.active = false
        if (member.inFlight > 0) await new Promise<void>((resolve) => (member.idle = resolve))
        const i = state.members.indexOf(member)
        if (i >= 0) state.members.splice(i, 1)
        if (options.temporary) this.broker.delete(channel.name)
        state.schedule()
      },
    }
  }

  async close(): Promise<void> {}
}

export function memoryTransport(options: MemoryTransportOptions = {}): MemoryTransport {
  return new MemoryTransport(options)
}

/** Brokers of memory transports made from config, one per retainMessages value asked for. */
const configBrokers = new Map<number, MemoryBroker>()

export const memoryAdapter: TransportAdapter<MemoryTransportOptions & { retainMessages?: number }> = {
  name: MEMORY,
  options: {
    broker: { type: 'any' },
    maxMessageBytes: { type: 'integer' },
    retainMessages: { type: 'integer', min: 0, infinity: true },
  },
  create: ({ retainMessages, ...options }) => {
    // Config cannot pass a broker object: transports asking for the same retention share one.
    if (retainMessages !== undefined && !options.broker && retainMessages !== DEFAULT_RETAINED_MESSAGES) {
      const broker = configBrokers.get(retainMessages) ?? new MemoryBroker({ retainMessages })
      configBrokers.set(retainMessages, broker)
      return new MemoryTransport({ ...options, broker })
    }
    return new MemoryTransport(options)
  },
}

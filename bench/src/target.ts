import type { Transport } from '@omnibus/core/adapter'

/** The broker's own client, used as well as we know how: the baseline Omnibus is measured against. */
export interface RawClient {
  connect(): Promise<void>
  /** Creates what `publish` and `consume` need (topic, queue, subscription) for a fresh channel and group. */
  prepare(channel: string, group: string): Promise<void>
  /** Publishes the messages in the adapter's default content mode, resolving once the broker confirmed all. */
  publish(channel: string, messages: readonly RawMessage[]): Promise<void>
  /** Consumes the group with the same acknowledgement discipline as the adapter (ack after handling). */
  consume(
    channel: string,
    group: string,
    onMessage: (payload: Buffer) => void,
  ): Promise<{ close(): Promise<void> }>
  close(): Promise<void>
}

/**
 * One message for the raw side: its data, and the CloudEvents attributes that Omnibus puts on the wire
 * beside it, so that both sides send the same bytes. The data-only variant leaves the attributes out:
 * what a user who sends bare JSON pays.
 */
export interface RawMessage {
  data: unknown
  attributes?: Readonly<Record<string, string>>
}

/** The data as JSON: the body in binary mode and in the data-only variant. */
export const dataBytes = (message: RawMessage): Buffer => Buffer.from(JSON.stringify(message.data))

/** Binary mode as a hand-written CloudEvents sender sets it: each attribute under `prefix`, and the content type. */
export function binaryHeaders(message: RawMessage, prefix: string): Record<string, string> | undefined {
  if (!message.attributes) return undefined
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  for (const name in message.attributes) headers[prefix + name] = message.attributes[name]!
  return headers
}

/** Structured mode: the whole event as one JSON document (data-only: the data alone). */
export const structuredBody = (message: RawMessage): Buffer =>
  message.attributes
    ? Buffer.from(
        JSON.stringify({ ...message.attributes, datacontenttype: 'application/json', data: message.data }),
      )
    : dataBytes(message)

export type Peer = 'mqt' | 'nest'

/** Another client's raw side measured in the same rounds (a target's reference is not always its own client). */
export interface Baseline {
  readonly side: string
  readonly label: string
  raw(): RawClient
  readonly withAttributes: boolean
}

/** One transport to benchmark: the Omnibus side and, for brokers, the raw side. */
export interface BenchTarget {
  readonly name: string
  /**
   * Events in the end-to-end and paced phases when the default would measure the broker's limits, not
   * the clients (moto's cost per message grows with the queue's depth).
   */
  readonly e2eEvents?: number
  /**
   * After the end-to-end phase, a second one of this many events on the same, warmed bus: the
   * steady state of a long-running service. On the memory transport a fresh process's 20,000
   * events are mostly JIT warm-up; on a broker the broker dominates either way, so only memory sets it.
   */
  readonly steadyEvents?: number
  /** Events in the publish phase when the default would take minutes on this broker (moto). */
  readonly publishEvents?: number
  /**
   * The latency phase where the default (batches of 10 every 10 ms, 3,000 events) would queue on
   * the broker: moto handles about 50 events a second end to end.
   */
  readonly paced?: { events: number; batch: number; intervalMs: number }
  /** Peer libraries measured on this broker: bench-peers/src/<broker ?? name>-<peer>.ts (`mqt`, `nest`). */
  readonly peers?: readonly Peer[]
  /** The broker's name where the target is a variant of another (kafka-platformatic: kafka). */
  readonly broker?: string
  transport(): Transport
  /** Further Omnibus sides (another content mode), by side name, measured in the same rounds. */
  readonly variants?: Readonly<Record<string, () => Transport>>
  /**
   * A variant's `maxInFlight` where it is not the bench's 64: the setting a user would pick for
   * throughput, measured beside the default (RabbitMQ: its prefetch follows maxInFlight).
   */
  readonly variantInFlight?: Readonly<Record<string, number>>
  raw?(): RawClient
  /** The raw client's name where the table should say it (the kafka target's is kafkajs). */
  readonly rawClient?: string
  readonly baselines?: readonly Baseline[]
  /** Checks the broker answers; the reason when it does not (the target is then left out). */
  unavailable?(): Promise<string | undefined>
}

import type { Transport } from '@omnibus/core'

/** The broker's own client, used as well as we know how: the baseline Omnibus is measured against. */
export interface RawClient {
  connect(): Promise<void>
  /** Creates what `publish` and `consume` need (topic, queue, subscription) for a fresh channel and group. */
  prepare(channel: string, group: string): Promise<void>
  /** Publishes the payloads, resolving once the broker confirmed all of them. */
  publish(channel: string, payloads: readonly Buffer[]): Promise<void>
  /** Consumes the group with the same acknowledgement discipline as the adapter (ack after handling). */
  consume(
    channel: string,
    group: string,
    onMessage: (payload: Buffer) => void,
  ): Promise<{ close(): Promise<void> }>
  close(): Promise<void>
}

/** One transport to benchmark: the Omnibus side and, for brokers, the raw side. */
export interface BenchTarget {
  readonly name: string
  /** Events per side and round when the default (20,000) would measure the broker's limits, not the clients. */
  readonly events?: number
  transport(): Transport
  raw?(): RawClient
  /** Checks the broker answers; the reason when it does not (the target is then left out). */
  unavailable?(): Promise<string | undefined>
}

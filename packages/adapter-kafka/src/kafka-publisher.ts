import type { Logger } from '@omnibus/core'
import { describeError, PublishQueues, withDeadline, within } from '@omnibus/core/adapter'
import { type KafkaRecord, recordSize } from './kafka-binding.js'
import type { DriverProducer, KafkaDriver } from './kafka-driver.js'

/** Most records in one produce request, so one request never holds up the line for long. */
const MAX_RECORDS = 5000

/**
 * Sends records through one idempotent producer with, per topic, one produce request at a
 * time, taking everything that queued up meanwhile into the next (PublishQueues): an
 * idempotent producer is only safe with one request in flight per partition, yet one request
 * per publish would cap throughput at a round trip per event. Records leave in call order (so
 * same-key records keep theirs); topics have separate lines, so a failing topic (a deleted
 * reply topic) does not hold up the others; a request stays within `maxBytes`.
 */
export class KafkaPublisher {
  private producer: DriverProducer
  private readonly queues: PublishQueues<KafkaRecord>
  /** Producers retired after a failed or late send, until that send settles. */
  private readonly retired = new Map<DriverProducer, Promise<unknown>>()

  constructor(
    private readonly driver: KafkaDriver,
    maxBytes: number,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {
    this.producer = driver.producer()
    this.queues = new PublishQueues<KafkaRecord>({
      maxItems: MAX_RECORDS,
      maxBytes,
      sizeOf: recordSize,
      send: (topic, records) => this.send(topic, records),
    })
  }

  /** Resolves when the broker acknowledged every record (acks=all); rejects when it did not. */
  publish(topic: string, records: readonly KafkaRecord[]): Promise<void> {
    return this.queues.push(topic, records)
  }

  /**
   * Closes the producer, and those retired whose send is still retrying, once their sends settled
   * (closed mid-send, kafkajs writes records twice: see renew), waiting publishTimeoutMs at most.
   */
  async close(): Promise<void> {
    await within(this.timeoutMs, Promise.allSettled(this.retired.values()))
    await Promise.allSettled([this.producer, ...this.retired.keys()].map((p) => p.close()))
  }

  /**
   * One request. One that did not confirm in time retires the producer (freeing its line), as
   * does one that failed: a failed request may still have been written, yet the client rolls
   * that partition's sequence numbers back, and the next, different records would reuse them:
   * the broker would take them for duplicates, confirmed but never written. A new producer has
   * a new producer id and fresh sequences.
   */
  private async send(topic: string, records: KafkaRecord[]): Promise<undefined> {
    const producer = this.producer
    const sending = producer.send(topic, records)
    try {
      await withDeadline(
        sending,
        this.timeoutMs,
        () => `topic "${topic}"`,
        () => this.renew(producer, sending),
      )
    } catch (error) {
      this.renew(producer, sending, error)
      throw error
    }
    return undefined
  }

  /**
   * Retires `old`, closing it only once its send settled. kafkajs goes on retrying a closed
   * producer's send over new connections, and so closed mid-send (a leader moving) it wrote about
   * 40 of 10,000 records twice in the leader-kill test (test/cluster); closed after, none (two runs).
   */
  private renew(old: DriverProducer, sending: Promise<void>, error?: unknown): void {
    if (this.producer !== old) return
    this.logger.warn('send failed; continuing with a new idempotent producer', {
      reason: error === undefined ? 'no confirm in time' : describeError(error),
    })
    this.producer = this.driver.producer()
    this.retired.set(old, sending)
    void sending
      .catch(() => undefined)
      .then(() => {
        this.retired.delete(old)
        return old.close()
      })
      .catch(() => undefined)
  }
}

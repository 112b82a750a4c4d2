import type { Logger } from '@omnibus/core'
import type { Message, Producer } from 'kafkajs'
import { type KafkaRecord, recordSize } from './kafka-binding.js'
import { errorMessageOf } from './kafka-errors.js'

interface Pending {
  readonly record: KafkaRecord
  readonly size: number
  readonly resolve: () => void
  readonly reject: (error: unknown) => void
}

/** Most records in one produce request, so one request never holds up the line for long. */
const MAX_RECORDS = 5000

/**
 * Sends records through one idempotent producer with, per topic, one produce
 * request at a time, taking everything that queued up meanwhile into the next.
 *
 * Why: kafkajs' idempotent producer is only safe with one request in flight per
 * partition (concurrent requests can reach the broker out of sequence), but one
 * request per publish would cap throughput at one round trip per event.
 * Gathering whatever arrived during the previous round trip gives both: order
 * (records leave in call order, so same-key records keep theirs) and batches
 * under load. Topics have separate lines, so a topic that fails (say, a deleted
 * reply topic) does not hold up the others. A request never carries more than
 * `maxBytes` in all, so no record batch can exceed the topic's max.message.bytes.
 */
export class Publisher {
  private readonly lanes = new Map<string, Pending[]>()
  private producer: Producer
  private ready: Promise<void>

  constructor(
    private readonly makeProducer: () => Producer,
    private readonly maxBytes: number,
    private readonly logger: Logger,
  ) {
    this.producer = makeProducer()
    this.ready = this.producer.connect()
    this.ready.catch(() => undefined)
  }

  /** Resolves once the first producer is connected; rejects when it could not connect. */
  connected(): Promise<void> {
    return this.ready
  }

  async close(): Promise<void> {
    await this.producer.disconnect()
  }

  /** Resolves when the broker has acknowledged every record (acks=all); rejects when it did not. */
  send(topic: string, records: readonly KafkaRecord[]): Promise<void> {
    let queue = this.lanes.get(topic)
    if (!queue) {
      const lane: Pending[] = []
      this.lanes.set(topic, lane)
      // Start on the next turn, so that publishes issued together leave together.
      setImmediate(() => void this.pump(topic, lane))
      queue = lane
    }
    const all = records.map(
      (record) =>
        new Promise<void>((resolve, reject) => {
          queue.push({ record, size: recordSize(record), resolve, reject })
        }),
    )
    return Promise.all(all).then(() => undefined)
  }

  private async pump(topic: string, queue: Pending[]): Promise<void> {
    while (queue.length > 0) {
      let bytes = 0
      let n = 0
      while (n < queue.length && n < MAX_RECORDS) {
        const size = queue[n]!.size
        if (n > 0 && bytes + size > this.maxBytes) break
        bytes += size
        n++
      }
      const chunk = queue.splice(0, n)
      const messages: Message[] = chunk.map((p) => p.record)
      const producer = this.producer
      try {
        await this.ready.catch(() => {
          // Connecting failed earlier (broker away): try again for this request.
          this.ready = producer.connect()
          return this.ready
        })
        await producer.send({ topic, messages, acks: -1 })
        for (const p of chunk) p.resolve()
      } catch (error) {
        for (const p of chunk) p.reject(error)
        this.renew(producer, error)
      }
    }
    this.lanes.delete(topic)
  }

  private renew(old: Producer, error: unknown): void {
    if (this.producer !== old) return
    this.logger.warn(
      'kafka producer lost its idempotence sequence (after a broker restart?); starting a new producer',
      {
        reason: errorMessageOf(error),
      },
    )
    this.producer = this.makeProducer()
    this.ready = this.producer.connect()
    this.ready.catch(() => undefined)
    void old.disconnect().catch(() => undefined)
  }
}

import type { Logger } from '@omnibus/core'
import {
  type ICustomPartitioner,
  type Message,
  Partitioners,
  type Producer,
  type RecordMetadata,
} from 'kafkajs'
import { type KafkaRecord, recordSize } from './kafka-binding.js'
import { errorMessageOf } from './kafka-errors.js'

/** One send() call: its records wait in the lane; it settles once all of them are acknowledged or one failed. */
interface Call {
  /** Records of this call not yet acknowledged. */
  left: number
  failed: boolean
  readonly resolve: () => void
  readonly reject: (error: unknown) => void
}

interface Pending {
  readonly record: KafkaRecord
  readonly size: number
  readonly call: Call
}

/**
 * Keyed records go where Java clients put them (murmur2 of the key, kafkajs'
 * DefaultPartitioner). Unkeyed ones go round robin, but a record keeps the
 * partition it was first given: kafkajs partitions a request again on every
 * retry, so an attempt that was written but not acknowledged could otherwise be
 * retried onto another partition, leaving the first one's rolled-back sequence
 * numbers to be reused by different records, which the broker would drop as
 * duplicates while confirming them. The partition is kept on the record itself
 * (`partition`, which kafkajs' partitioner honours), not in a WeakMap: one
 * WeakMap entry per record cost more than the rest of the partitioner. Keyed
 * records get theirs written down too, so that the publisher can tell which
 * partitions' acknowledgements a request needs (see Publisher.acknowledged).
 */
export const stablePartitioner: ICustomPartitioner = () => {
  const base = Partitioners.DefaultPartitioner()
  let next = Math.floor(Math.random() * 1024)
  return (args) => {
    const { message, partitionMetadata } = args
    if (message.key !== null && message.key !== undefined) {
      message.partition = base(args)
      return message.partition
    }
    const given = message.partition
    if (given !== undefined && given < partitionMetadata.length) return given
    const candidate = partitionMetadata[next++ % partitionMetadata.length]
    // A partition without a leader: let kafkajs pick among those with one.
    const partition =
      candidate && candidate.leader >= 0
        ? candidate.partitionId
        : base({ ...args, message: { ...message, partition: undefined } })
    message.partition = partition
    return partition
  }
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

  /**
   * Resolves when the broker has acknowledged every record (acks=all); rejects when it did not.
   * `sizes` are the records' recordSize, when the caller has them already.
   */
  send(topic: string, records: readonly KafkaRecord[], sizes?: readonly number[]): Promise<void> {
    let queue = this.lanes.get(topic)
    if (!queue) {
      const lane: Pending[] = []
      this.lanes.set(topic, lane)
      // Start once this turn's microtasks have run, so that publishes issued
      // together (in one turn) leave together. Not setImmediate: on a busy loop
      // (a consumer decoding fetches in the same process) that waits behind all
      // pending I/O callbacks, which delayed every send by milliseconds.
      queueMicrotask(() => void this.pump(topic, lane))
      queue = lane
    }
    const lane = queue
    // One promise per call, not per record: a batch of 500 is one settlement, not 500.
    return new Promise<void>((resolve, reject) => {
      const call: Call = { left: records.length, failed: false, resolve, reject }
      if (records.length === 0) return resolve()
      for (let i = 0; i < records.length; i++) {
        const record = records[i]!
        lane.push({ record, size: sizes?.[i] ?? recordSize(record), call })
      }
    })
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
        await this.acknowledged(producer, topic, chunk, await producer.send({ topic, messages, acks: -1 }))
        for (const p of chunk) if (--p.call.left === 0 && !p.call.failed) p.call.resolve()
      } catch (error) {
        for (const p of chunk) {
          if (p.call.failed) continue
          p.call.failed = true
          p.call.reject(error)
        }
        this.renew(producer, error)
      }
    }
    this.lanes.delete(topic)
  }

  /**
   * Returns once every partition of `chunk` is in the broker's acknowledgement, sending again
   * those that are not. kafkajs can report a send as done with a partition missing: when a
   * partition's leader dies mid-request, its retry sends only to brokers that have not answered
   * yet, so if the partition's new leader was one of the request's other brokers, its records are
   * never sent (the killed leader may not have replicated them: confirmed, lost). kafkajs rolled
   * that partition's sequence numbers back, so sending the same records again, alone, is
   * deduplicated by the broker if the dead leader's copy did survive, and written if not.
   */
  private async acknowledged(
    producer: Producer,
    topic: string,
    chunk: Pending[],
    acks: RecordMetadata[],
  ): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const done = new Set(acks.map((a) => a.partition))
      const missing = chunk.filter((p) => p.record.partition === undefined || !done.has(p.record.partition))
      if (missing.length === 0) return
      const partitions = [...new Set(missing.map((p) => p.record.partition))].join(', ')
      if (attempt > 3)
        throw new Error(`no acknowledgement for partition(s) ${partitions} after ${attempt} sends`)
      this.logger.warn('kafka acknowledged a send without some of its partitions; sending those again', {
        topic,
        partitions,
        records: missing.length,
      })
      chunk = missing
      acks = await producer.send({ topic, messages: missing.map((p) => p.record), acks: -1 })
    }
  }

  /**
   * A failed send retires the producer. A request that failed may still have been
   * written (the broker went down before answering), yet kafkajs rolls that
   * partition's sequence numbers back; the next, different records would reuse
   * them, and the broker would take them for a duplicate of what it already has:
   * confirmed, but never written. A new producer has a new producer id and starts
   * its sequences afresh. (kafkajs never recovers from the resulting
   * OUT_OF_ORDER_SEQUENCE_NUMBER on its own either.)
   */
  private renew(old: Producer, error: unknown): void {
    if (this.producer !== old) return
    this.logger.warn('kafka send failed; continuing with a new idempotent producer', {
      reason: errorMessageOf(error),
    })
    this.producer = this.makeProducer()
    this.ready = this.producer.connect()
    this.ready.catch(() => undefined)
    void old.disconnect().catch(() => undefined)
  }
}

import { type DeliveryHandler, type Logger, OmnibusError, Semaphore } from '@omnibus/core'
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs'
import { fromRecord } from './kafka-binding.js'
import type { KafkaSettings } from './kafka-config.js'
import { errorMessageOf } from './kafka-errors.js'

export interface ConsumerSpec {
  readonly kafka: Kafka
  readonly topic: string
  readonly groupId: string
  readonly handler: DeliveryHandler
  readonly maxInFlight: number
  /** Where a partition without a committed position starts (queues: the beginning). */
  readonly fromBeginning: boolean
  readonly settings: KafkaSettings
  readonly logger: Logger
}

/** Most partitions of one subscription handled at once; maxInFlight bounds the handlers anyway. */
const MAX_PARTITIONS_AT_ONCE = 16
/** Longest wait for the first join before subscribe() resolves and the consumer goes on joining in the background. */
const JOIN_WAIT_MS = 30_000

/**
 * One member of a consumer group, delivering at least once.
 *
 * kafkajs fetches a batch per partition; `eachBatch` hands its records out in
 * offset order, several at once (bounded by `maxInFlight` across the whole
 * subscription; core keeps same-key records one after another), and resolves an
 * offset only when every record up to it has been acknowledged: the committed
 * offset is always the lowest unsettled one. A rejected record stops the hand-out
 * of that batch and is not resolved, so kafkajs fetches again from it:
 * redelivery. The batch returns only when everything it handed out has settled,
 * which is also what keeps a partition with one member at a time: kafkajs'
 * (eager) rebalance waits for it before the partition can move.
 */
export class KafkaSubscriber {
  private consumer: Consumer | undefined
  private closing = false
  private joined = false
  private restarts = 0
  private restartTimer: NodeJS.Timeout | undefined
  private readonly slots: Semaphore
  /** Deliveries so far of records this member saw rejected, by `partition:offset`. */
  private readonly redelivered = new Map<string, number>()

  constructor(private readonly spec: ConsumerSpec) {
    this.slots = new Semaphore(Math.max(1, spec.maxInFlight))
  }

  /** Joins the group; resolves once the member has its partitions (or keeps trying in the background). */
  async start(): Promise<void> {
    await this.launch(true)
  }

  /** Stops intake, waits for handed-out deliveries to settle and commits them, then leaves the group. */
  async close(): Promise<void> {
    this.closing = true
    clearTimeout(this.restartTimer)
    await this.consumer?.disconnect().catch((error: unknown) => {
      this.spec.logger.warn('consumer did not disconnect cleanly', { reason: errorMessageOf(error) })
    })
  }

  private async launch(first: boolean): Promise<void> {
    const { kafka, topic, groupId, settings, fromBeginning, logger } = this.spec
    const consumer = kafka.consumer({
      groupId,
      sessionTimeout: settings.sessionTimeout,
      rebalanceTimeout: settings.rebalanceTimeout,
      heartbeatInterval: settings.heartbeatInterval,
      maxWaitTimeInMs: settings.maxWaitTimeInMs,
      allowAutoTopicCreation: false,
      retry: settings.retry,
    })
    this.consumer = consumer
    this.joined = false
    let crashed: ((error: Error) => void) | undefined
    const crash = new Promise<never>((_, reject) => {
      crashed = reject
    })
    crash.catch(() => undefined)
    let onJoin: (() => void) | undefined
    const join = new Promise<void>((resolve) => {
      onJoin = resolve
    })
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.joined = true
      this.restarts = 0
      onJoin?.()
    })
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (this.closing || this.consumer !== consumer) return
      if (payload.restart) {
        // kafkajs restarts the member itself (retriable errors: lost connections, broker restarts).
        logger.warn('consumer crashed; kafkajs restarts it', {
          groupId,
          reason: errorMessageOf(payload.error),
        })
        return
      }
      crashed?.(payload.error)
      this.scheduleRestart(payload.error)
    })
    try {
      await consumer.connect()
      await consumer.subscribe({ topics: [topic], fromBeginning })
      await consumer.run({
        autoCommit: true,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: Math.min(this.spec.maxInFlight, MAX_PARTITIONS_AT_ONCE),
        eachBatch: (payload) => this.onBatch(payload),
      })
    } catch (error) {
      if (!first) throw error
      await consumer.disconnect().catch(() => undefined)
      throw new OmnibusError(
        'TRANSPORT_UNAVAILABLE',
        `[omnibus] [kafka] could not start consuming topic "${topic}" as group "${groupId}": ${errorMessageOf(error)}; ` +
          'is Kafka reachable?',
        { cause: error },
      )
    }
    if (!first || this.joined) return
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        logger.warn('consumer has not joined its group yet; it keeps trying', {
          groupId,
          waitedMs: JOIN_WAIT_MS,
        })
        resolve()
      }, JOIN_WAIT_MS)
    })
    try {
      await Promise.race([join, late, crash])
    } catch (error) {
      this.closing = true
      clearTimeout(this.restartTimer)
      await consumer.disconnect().catch(() => undefined)
      throw new OmnibusError(
        'TRANSPORT_UNAVAILABLE',
        `[omnibus] [kafka] consumer of topic "${topic}" (group "${groupId}") failed: ${errorMessageOf(error)}`,
        { cause: error },
      )
    } finally {
      clearTimeout(timer)
    }
  }

  /** kafkajs gave up on this member (a non-retriable error): start a fresh one, backing off. */
  private scheduleRestart(error: Error): void {
    const delay = Math.min(30_000, 500 * 2 ** this.restarts++)
    this.spec.logger.error('consumer stopped on an error; starting a new one', {
      groupId: this.spec.groupId,
      reason: errorMessageOf(error),
      inMs: delay,
    })
    this.restartTimer = setTimeout(() => {
      if (this.closing) return
      const old = this.consumer
      void (async () => {
        await old?.disconnect().catch(() => undefined)
        if (this.closing) return
        await this.launch(false).catch((e: unknown) => this.scheduleRestart(e as Error))
      })()
    }, delay)
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const {
      batch,
      resolveOffset,
      heartbeat,
      commitOffsetsIfNecessary,
      uncommittedOffsets,
      isRunning,
      isStale,
    } = payload
    const messages = batch.messages
    const acked: boolean[] = new Array(messages.length).fill(false)
    let next = 0 // every record before `next` is acknowledged and resolved
    let stop = false
    let rejected = false
    let rebalance: unknown
    const inFlight = new Set<Promise<void>>()
    const halted = () => stop || this.closing || !isRunning() || isStale()

    // Heartbeats (and commits of what is done so far) while handlers run, so that a
    // long batch neither loses the member its partitions nor holds back the commit.
    // (kafkajs commits on its own only after the batch; given offsets, it commits them now.)
    const beat = setInterval(() => {
      heartbeat()
        .then(() => {
          const done = uncommittedOffsets()
          return done.topics.length > 0 ? commitOffsetsIfNecessary(done) : undefined
        })
        .catch((error: unknown) => {
          rebalance ??= error
          stop = true
        })
    }, this.spec.settings.heartbeatInterval)

    try {
      for (let i = 0; i < messages.length && !halted(); i++) {
        await this.slots.acquire()
        if (halted()) {
          this.slots.release()
          break
        }
        const index = i
        const message = messages[index]!
        const settled = this.deliver(batch.partition, message).then((ok) => {
          this.slots.release()
          if (!ok) {
            rejected = true
            stop = true
            return
          }
          acked[index] = true
          let last = -1
          while (next < messages.length && acked[next]) last = next++
          if (last >= 0) resolveOffset(messages[last]!.offset)
        })
        inFlight.add(settled)
        void settled.then(() => inFlight.delete(settled))
      }
      await Promise.all(inFlight)
    } finally {
      clearInterval(beat)
    }
    // kafkajs commits what was resolved once the batch returns (or throws).
    if (rebalance !== undefined) throw rebalance
    // Do not spin on a record that keeps being rejected (core rejects only while
    // stopping or when a dead letter could not be sent, e.g. during an outage).
    if (rejected && !this.closing && isRunning()) await new Promise((resolve) => setTimeout(resolve, 250))
  }

  /** Hands one record to the handler; true when it was acknowledged. Never throws. */
  private async deliver(partition: number, message: KafkaMessage): Promise<boolean> {
    const id = `${partition}:${message.offset}`
    const deliveryCount = (this.redelivered.get(id) ?? 0) + 1
    try {
      await this.spec.handler({ ...fromRecord(message), deliveryCount })
      if (deliveryCount > 1) this.redelivered.delete(id)
      return true
    } catch (error) {
      this.redelivered.set(id, deliveryCount)
      this.spec.logger.debug('delivery rejected; it will be redelivered', {
        groupId: this.spec.groupId,
        partition,
        offset: message.offset,
        reason: errorMessageOf(error),
      })
      return false
    }
  }
}

import { type Logger, OmnibusError } from '@omnibus/core'
import { type DeliveryHandler, InFlight, Semaphore } from '@omnibus/core/adapter'
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

/** Most partitions of one subscription handed out at once; maxInFlight bounds the handlers anyway. */
const MAX_PARTITIONS_AT_ONCE = 16
/** Longest wait for the first join before subscribe() resolves and the member goes on joining in the background. */
const JOIN_WAIT_MS = 30_000
/** How often settled progress is committed. */
const COMMIT_EVERY_MS = 200
/** Pause before a rejected record is fetched again, so a record that keeps failing does not spin. */
const REDELIVERY_DELAY_MS = 250

/**
 * What one partition has handed out and not yet committed. The committed offset
 * is always the lowest record not yet acknowledged: in flight, or rejected and
 * waiting to be fetched again. Records acknowledged above it are remembered, so
 * that a fetch from an earlier offset (after a rejection or a rebalance) does not
 * hand them out twice.
 */
class PartitionState {
  readonly inFlight = new Set<number>()
  readonly done = new Set<number>()
  failed: number | undefined
  /** One past the highest offset handed out. */
  next = -1
  /** The offset last committed (or being committed). */
  committed = -1

  /** Where the group may safely resume: nothing below it is unsettled. */
  position(): number {
    let low = this.failed ?? this.next
    for (const offset of this.inFlight) if (offset < low) low = offset
    return low
  }
}

/**
 * One member of a consumer group, delivering at least once.
 *
 * `eachBatch` hands a batch's records out in offset order (at most `maxInFlight`
 * unsettled across the subscription; core keeps same-key records one after
 * another) and returns without waiting for the handlers: kafkajs fetches for all
 * partitions of a broker in one loop, so a batch that waited for a slow or
 * retrying handler would stall every other partition. kafkajs' own offset
 * tracking therefore only moves the fetch position; commits are ours
 * (autoCommit off): the lowest unsettled offset per partition. A rejected
 * record is sought back to, so it is fetched and handed out again.
 *
 * Known gap: kafkajs has no hook to delay a rebalance, so a record still in a
 * handler when its partition moves to another member can be handed to that
 * member too (at-least-once makes that a duplicate; core's per-key order holds
 * within each member). Closing a subscription drains before leaving, so this
 * needs a member to join or crash mid-stream.
 */
export class KafkaSubscriber {
  private consumer: Consumer | undefined
  private closing = false
  private joined = false
  private restarts = 0
  private restartTimer: NodeJS.Timeout | undefined
  private commitTimer: NodeJS.Timeout | undefined
  private committing: Promise<void> = Promise.resolve()
  private readonly slots: Semaphore
  private readonly partitions = new Map<number, PartitionState>()
  /** Deliveries handed out and not yet settled. */
  private readonly inFlight = new InFlight()
  /** Deliveries so far of records this member saw rejected, by `partition:offset`. */
  private readonly redelivered = new Map<string, number>()

  constructor(private readonly spec: ConsumerSpec) {
    this.slots = new Semaphore(Math.max(1, spec.maxInFlight))
  }

  /** Joins the group; resolves once the member has its partitions (or keeps trying in the background). */
  async start(): Promise<void> {
    await this.launch(true)
    this.commitTimer = setInterval(() => void this.commit(), COMMIT_EVERY_MS)
  }

  /** Stops intake, waits for handed-out deliveries to settle, commits them, then leaves the group. */
  async close(): Promise<void> {
    this.closing = true
    clearTimeout(this.restartTimer)
    clearInterval(this.commitTimer)
    const consumer = this.consumer
    try {
      consumer?.pause([{ topic: this.spec.topic }])
    } catch {
      // Not running (never joined, or crashed): nothing to pause.
    }
    await this.inFlight.idle()
    await this.commit()
    await consumer?.disconnect().catch((error: unknown) => {
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
    let crashed: (error: Error) => void = () => {}
    const crash = new Promise<never>((_, reject) => {
      crashed = reject
    })
    crash.catch(() => undefined)
    let onJoin: () => void = () => {}
    const join = new Promise<void>((resolve) => {
      onJoin = resolve
    })
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      if (this.consumer !== consumer) return
      this.joined = true
      this.restarts = 0
      // Partitions that went elsewhere are not ours to commit any more; kept ones keep their state.
      const mine = new Set(payload.memberAssignment[topic] ?? [])
      for (const partition of this.partitions.keys())
        if (!mine.has(partition)) this.partitions.delete(partition)
      onJoin()
    })
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (this.closing || this.consumer !== consumer) return
      this.partitions.clear()
      if (payload.restart) {
        // kafkajs restarts the member itself (retriable errors: lost connections, broker restarts).
        logger.warn('consumer crashed; kafkajs restarts it', {
          groupId,
          reason: errorMessageOf(payload.error),
        })
        return
      }
      crashed(payload.error)
      this.scheduleRestart(payload.error)
    })
    try {
      await consumer.connect()
      await consumer.subscribe({ topics: [topic], fromBeginning })
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: Math.min(this.spec.maxInFlight, MAX_PARTITIONS_AT_ONCE),
        eachBatch: (payload) => this.onBatch(consumer, payload),
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

  private async onBatch(consumer: Consumer, payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload
    const { partition } = batch
    let state = this.partitions.get(partition)
    if (!state) {
      state = new PartitionState()
      this.partitions.set(partition, state)
    }
    // Waiting for a free slot can take a while: keep the membership alive meanwhile
    // (a rebalance it reports is picked up by kafkajs' own next heartbeat).
    const beat = setInterval(
      () => void heartbeat().catch(() => undefined),
      this.spec.settings.heartbeatInterval,
    )
    // kafkajs' isRunning/isStale and its resolveOffset (Long arithmetic) cost a
    // little per record; they can change only while this loop awaits, and the
    // position is read only after it returns, so they are asked once per stretch
    // between awaits, not per record. `closing` and `consumer` are ours and cheap.
    const live = () => !this.closing && consumer === this.consumer && isRunning() && !isStale()
    let resolved: string | undefined
    let last: string | undefined
    try {
      if (!live()) return
      for (const message of batch.messages) {
        if (this.closing || consumer !== this.consumer) return
        const offset = Number(message.offset)
        if (state.next < 0) state.next = offset
        // Already in a handler, or acknowledged, from an earlier fetch.
        const handled = state.inFlight.has(offset) || state.done.has(offset)
        if (!handled) {
          if (!this.slots.tryAcquire()) {
            if (last !== undefined && last !== resolved) {
              resolved = last
              resolveOffset(last)
            }
            await this.slots.acquire()
            if (!live()) {
              this.slots.release()
              return
            }
          }
          if (state.failed === offset) state.failed = undefined
          state.inFlight.add(offset)
          this.inFlight.enter()
          void this.handOut(consumer, state, partition, offset, message)
        }
        if (offset >= state.next) state.next = offset + 1
        last = message.offset
      }
    } finally {
      if (last !== undefined && last !== resolved) resolveOffset(last)
      clearInterval(beat)
    }
  }

  private settle(consumer: Consumer, state: PartitionState, offset: number, ok: boolean): void {
    this.slots.release()
    state.inFlight.delete(offset)
    if (ok) {
      if (offset >= state.committed) state.done.add(offset)
      return
    }
    if (state.failed !== undefined && state.failed <= offset) return
    state.failed = offset
    // Fetch again from the rejected record: it and whatever after it is not yet acknowledged.
    setTimeout(() => {
      const partition = [...this.partitions].find(([, s]) => s === state)?.[0]
      if (this.closing || consumer !== this.consumer || partition === undefined || state.failed !== offset)
        return
      try {
        consumer.seek({ topic: this.spec.topic, partition, offset: String(offset) })
      } catch (error) {
        this.spec.logger.debug('could not seek back to a rejected record', { reason: errorMessageOf(error) })
      }
    }, REDELIVERY_DELAY_MS)
  }

  /** Commits every partition's safe position that moved; one commit at a time. */
  private commit(): Promise<void> {
    this.committing = this.committing.then(async () => {
      const consumer = this.consumer
      if (!consumer) return
      const offsets: { topic: string; partition: number; offset: string }[] = []
      const moved: [PartitionState, number][] = []
      for (const [partition, state] of this.partitions) {
        if (state.next < 0) continue
        const position = state.position()
        if (position <= state.committed) continue
        offsets.push({ topic: this.spec.topic, partition, offset: String(position) })
        moved.push([state, position])
      }
      if (offsets.length === 0) return
      try {
        await consumer.commitOffsets(offsets)
        for (const [state, position] of moved) {
          state.committed = position
          for (const offset of state.done) if (offset < position) state.done.delete(offset)
        }
      } catch (error) {
        // Rebalancing or reconnecting: the next round commits again (or the new owner redelivers).
        this.spec.logger.debug('offset commit failed; will retry', {
          groupId: this.spec.groupId,
          reason: errorMessageOf(error),
        })
      }
    })
    return this.committing
  }

  /**
   * Hands one record to the handler and settles it: acknowledged when the
   * handler returned, to be redelivered when it threw. Never throws. (One async
   * function per record, not two: a promise and a turn fewer each.)
   */
  private async handOut(
    consumer: Consumer,
    state: PartitionState,
    partition: number,
    offset: number,
    message: KafkaMessage,
  ): Promise<void> {
    // Most records are delivered once: look up earlier deliveries only when some were rejected.
    const id = this.redelivered.size > 0 ? `${partition}:${message.offset}` : undefined
    const deliveryCount = id === undefined ? 1 : (this.redelivered.get(id) ?? 0) + 1
    let ok = true
    try {
      const decoded = fromRecord(message)
      await this.spec.handler(
        decoded.event
          ? { event: decoded.event, deliveryCount }
          : { malformed: decoded.malformed, deliveryCount },
      )
      if (deliveryCount > 1) this.redelivered.delete(id!)
    } catch (error) {
      ok = false
      this.redelivered.set(id ?? `${partition}:${message.offset}`, deliveryCount)
      this.spec.logger.debug('delivery rejected; it will be redelivered', {
        groupId: this.spec.groupId,
        partition,
        offset: message.offset,
        reason: errorMessageOf(error),
      })
    }
    this.settle(consumer, state, offset, ok)
    this.inFlight.leave()
  }
}

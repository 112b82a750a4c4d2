import type { Logger } from '@omnibus/core'
import {
  adapterError,
  Backoff,
  type DeliveryHandler,
  describeError,
  OffsetLedger,
  Outage,
  pause,
  retrying,
  within,
} from '@omnibus/core/adapter'
import { fromRecord } from './kafka-binding.js'
import type { DriverMember, KafkaDriver, MemberSpec, ReceivedRecord } from './kafka-driver.js'
import { METADATA_LAG } from './kafka-provisioner.js'
import { errorText } from './kafka-security.js'

/** Longest wait for the first join before subscribe() resolves and the member goes on joining in the background. */
const JOIN_WAIT_MS = 30_000
/** How long a subscribe is retried while a broker has not yet heard of a just-created topic. */
const METADATA_PATIENCE_MS = 30_000
const COMMIT_EVERY_MS = 200
/** Pause before a rejected record is fetched again, so a record that keeps failing does not spin. */
const REDELIVERY_DELAY_MS = 250

export interface ConsumerSpec extends Omit<MemberSpec, 'concurrency'> {
  readonly handler: DeliveryHandler
  readonly maxInFlight: number
}

/**
 * One member of a consumer group, delivering at least once, over any driver. Batches are handed
 * out in offset order (at most `maxInFlight` unsettled across the subscription; core keeps
 * same-key records one after another) without waiting for handlers; commits are ours: the
 * lowest unsettled offset per partition. A rejected record is sought back to and fetched again.
 *
 * Liveness: a member the client gives up on (a non-retriable error, e.g. the broker refusing
 * connections for longer than the retry budget) is replaced, with backoff, until one runs. An
 * outage is logged once at warn, the recovery once at info with `outageMs`.
 *
 * Known gap: no client lets a rebalance wait for handlers, so a record still in a handler when
 * its partition moves can be handed to the new owner too (a duplicate under at-least-once).
 */
export class KafkaConsumer {
  private member: DriverMember | undefined
  private closing = false
  private replacing = false
  private readonly outage: Outage
  private readonly restarts = new Backoff(500, 30_000)
  private joined: (() => void) | undefined
  private crashed: ((error: unknown) => void) | undefined
  private commitTimer: NodeJS.Timeout | undefined
  /** What is handed out and settled per partition, and the offsets to commit. */
  private readonly ledger: OffsetLedger<ReceivedRecord>

  constructor(
    private readonly driver: KafkaDriver,
    private readonly spec: ConsumerSpec,
    private readonly logger: Logger,
  ) {
    this.ledger = new OffsetLedger<ReceivedRecord>({
      maxInFlight: spec.maxInFlight,
      deliver: (record, _partition, deliveryCount) => {
        const decoded = fromRecord(record)
        return spec.handler(
          decoded.event
            ? { event: decoded.event, deliveryCount }
            : { malformed: decoded.malformed, deliveryCount },
        )
      },
      seek: (partition, offset) => this.seek(partition, offset),
      redeliveryDelayMs: REDELIVERY_DELAY_MS,
      onRejected: (error, partition, offset) =>
        logger.debug('delivery rejected; it will be redelivered', {
          groupId: spec.groupId,
          partition,
          offset,
          reason: describeError(error),
        }),
    })
    this.outage = new Outage(logger, { groupId: spec.groupId })
  }

  /** Joins the group; resolves once the member has its partitions (or keeps trying in the background). */
  async start(): Promise<void> {
    const joined = new Promise<void>((resolve, reject) => {
      this.joined = resolve
      this.crashed = reject
    })
    const started = Date.now()
    try {
      await this.launchPatiently()
      if (!(await within(JOIN_WAIT_MS - (Date.now() - started), joined))) {
        const fields = { groupId: this.spec.groupId, waitedMs: Date.now() - started }
        this.logger.warn('consumer has not joined its group yet; it keeps trying', fields)
      }
    } catch (error) {
      await this.close()
      throw adapterError(
        'kafka',
        'TRANSPORT_UNAVAILABLE',
        `could not consume topic "${this.spec.topic}" as group "${this.spec.groupId}"; is Kafka reachable?`,
        error,
      )
    } finally {
      this.crashed = undefined
    }
    this.commitTimer = setInterval(() => void this.commit(), COMMIT_EVERY_MS)
  }

  /** Stops intake, waits for handed-out deliveries to settle, commits them, then leaves the group. */
  async close(): Promise<void> {
    this.closing = true
    this.ledger.stop()
    clearInterval(this.commitTimer)
    this.member?.pause()
    await this.ledger.idle()
    await this.commit()
    await this.member?.close().catch((error: unknown) => {
      this.logger.warn('consumer did not disconnect cleanly', { reason: describeError(error) })
    })
  }

  private async launch(): Promise<void> {
    const { groupId, topic, fromBeginning, maxInFlight } = this.spec
    const member = this.driver.member(
      { groupId, topic, fromBeginning, concurrency: Math.min(maxInFlight, 16) },
      {
        batch: (partition, records, live) =>
          this.ledger.take(partition, records, () => this.member === member && live()),
        assigned: (partitions) => {
          if (this.member !== member) return
          this.ledger.keep(partitions)
          this.restarts.reset()
          this.outage.end('consumer is back')
          this.joined?.()
        },
        failed: (error, restarting) => {
          if (this.closing || this.member !== member) return
          this.ledger.reset()
          if (this.crashed && !restarting) return this.crashed(error)
          const reason = describeError(error)
          this.outage.begin('consumer lost the broker; retrying until it is back', { reason })
          if (!restarting) void this.replace(member)
        },
      },
    )
    this.member = member
    await member.start()
  }

  /**
   * On a cluster under load, the broker a subscribe asks may not know a topic created a moment
   * ago ("does not host this topic-partition"): that passes, so it is retried for a while;
   * anything else fails the start at once.
   */
  private async launchPatiently(): Promise<void> {
    const giveUpAt = Date.now() + METADATA_PATIENCE_MS
    let failure: unknown
    await retrying(
      async () => {
        if (this.closing) throw failure
        try {
          await this.launch()
        } catch (error) {
          // The failed member's client is closed before another is made (a driver may leave it open).
          await this.member?.close().catch(() => undefined)
          failure = error
          throw error
        }
      },
      {
        minMs: 100,
        maxMs: 2_000,
        retryIf: (error) => !this.closing && Date.now() < giveUpAt && METADATA_LAG.test(errorText(error)),
        onError: () =>
          this.logger.debug('topic not known to the broker yet; subscribing again', {
            topic: this.spec.topic,
          }),
      },
    )
  }

  /** The client gave up on `old`: start fresh members, backing off, until one runs. */
  private async replace(old: DriverMember): Promise<void> {
    if (this.replacing) return
    this.replacing = true
    try {
      while (!this.closing && this.member === old) {
        await pause(this.restarts.next())
        await old.close().catch(() => undefined)
        if (this.closing) return
        try {
          return await this.launch()
        } catch (error) {
          this.logger.debug('consumer restart failed; trying again', { reason: describeError(error) })
          old = this.member!
        }
      }
    } finally {
      this.replacing = false
    }
  }

  /** Fetches a rejected record again, when the driver can; false hands it out again from memory. */
  private seek(partition: number, offset: number): boolean {
    if (!this.member?.seek) return false
    try {
      this.member.seek(partition, offset)
    } catch (e) {
      // No refetch will come: the ledger hands the record out again from memory instead.
      this.logger.debug('could not seek back to a rejected record', { reason: describeError(e) })
      return false
    }
    return true
  }

  /** Commits every partition's safe position that moved; one commit at a time. */
  private commit(): Promise<void> {
    return this.ledger.commit(
      (positions) => this.member?.commit(positions),
      // Rebalancing or reconnecting: the next round commits again (or the new owner redelivers).
      (error) =>
        this.logger.debug('offset commit failed; will retry', {
          groupId: this.spec.groupId,
          reason: describeError(error),
        }),
    )
  }
}

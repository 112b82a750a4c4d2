import { Semaphore } from '../util/async.js'
import { InFlight } from './in-flight.js'

export interface OffsetLedgerOptions<R extends { readonly offset: number }> {
  /** Most records handed out and not settled, across every partition. */
  readonly maxInFlight: number
  /**
   * Hands `record` to the handler; `deliveryCount` counts this member's deliveries of it. Resolving
   * acknowledges it, rejecting (or throwing) rejects it: it is delivered again.
   */
  readonly deliver: (record: R, partition: number, deliveryCount: number) => Promise<void>
  /**
   * Fetches `partition` again from `offset` (its lowest rejected record), `redeliveryDelayMs` after a
   * rejection; returns false when the client cannot, and the record is handed out again from memory.
   */
  readonly seek?: (partition: number, offset: number) => boolean
  /** Pause before a rejected record comes again, so a record that keeps failing does not spin. */
  readonly redeliveryDelayMs: number
  /** Told about every rejection (to log it). */
  readonly onRejected?: (error: unknown, partition: number, offset: number) => void
}

/**
 * Records a group has not committed past, over every partition of a log: the partition's end (its
 * next offset) minus the group's committed position there, or minus its first offset where the
 * group has no position (negative: never committed).
 */
export function logBacklog(
  ends: readonly { readonly partition: number; readonly low: number; readonly high: number }[],
  positions: readonly { readonly partition: number; readonly offset: number }[],
): number {
  const at = new Map(positions.map((p) => [p.partition, p.offset]))
  let backlog = 0
  for (const { partition, low, high } of ends) {
    const position = at.get(partition) ?? -1
    backlog += Math.max(0, high - (position >= 0 ? position : low))
  }
  return backlog
}

/**
 * What one partition handed out and has not committed. The position to commit is always the
 * lowest record not yet acknowledged (in flight, or rejected and to be handed out again); records
 * acknowledged above it are remembered, so that a fetch from an earlier offset (after a rejection
 * or a rebalance) does not hand them out twice.
 */
class Partition {
  readonly inFlight = new Set<number>()
  readonly done = new Set<number>()
  /** Rejected, to be handed out again. */
  readonly failed = new Set<number>()
  /** One past the highest offset handed out; -1 before the first. */
  next = -1
  committed = -1

  position(): number {
    let low = this.next
    for (const offset of this.inFlight) if (offset < low) low = offset
    for (const offset of this.failed) if (offset < low) low = offset
    return low
  }
}

/**
 * The consumer side of a log-based broker (Kafka, Pulsar, Kinesis, Redis streams): records of a
 * partition come in offset order and are acknowledged by committing one offset per partition, the
 * lowest one not yet settled. The ledger hands records out without waiting for handlers (at most
 * `maxInFlight` unsettled across partitions), settles them out of order, and says which positions
 * moved (`positions`), so the adapter commits a watermark below which everything was acknowledged.
 * A rejected record is fetched again (`seek`) or handed out again from memory, with its delivery
 * count; records acknowledged above it are not handed out twice.
 */
export class OffsetLedger<R extends { readonly offset: number }> {
  private readonly partitions = new Map<number, Partition>()
  private readonly slots: Semaphore
  private readonly handedOut = new InFlight()
  /** Deliveries so far of records this member saw rejected, by `partition:offset`. */
  private readonly redelivered = new Map<string, number>()
  private stopped = false
  private committing: Promise<void> = Promise.resolve()

  constructor(private readonly options: OffsetLedgerOptions<R>) {
    this.slots = new Semaphore(Math.max(1, options.maxInFlight))
  }

  /**
   * Records of one partition in offset order: hands out those not in a handler or acknowledged
   * already, waiting for a free slot when `maxInFlight` are out. Resolves with the offset of the
   * last record taken (handed out or skipped), once taken, or once `live()` (still the partition's
   * owner) turns false or the ledger stopped: the records after it were not taken.
   */
  async take(partition: number, records: readonly R[], live: () => boolean): Promise<number | undefined> {
    let state = this.partitions.get(partition)
    if (!state) {
      state = new Partition()
      this.partitions.set(partition, state)
    }
    let last: number | undefined
    if (!live()) return last
    for (const record of records) {
      if (this.stopped) return last
      const offset = record.offset
      if (state.next < 0) state.next = offset
      // Already in a handler, or acknowledged, from an earlier fetch.
      if (!state.inFlight.has(offset) && !state.done.has(offset)) {
        if (!this.slots.tryAcquire()) {
          await this.slots.acquire()
          if (this.stopped || !live()) {
            this.slots.release()
            return last
          }
        }
        state.failed.delete(offset)
        state.inFlight.add(offset)
        this.handedOut.enter()
        void this.handOut(state, partition, record)
      }
      if (offset >= state.next) state.next = offset + 1
      last = offset
    }
    return last
  }

  /** The member now owns `partitions`: the others are not its to commit any more; kept ones keep their state. */
  keep(partitions: Iterable<number>): void {
    const mine = new Set(partitions)
    for (const p of this.partitions.keys()) if (!mine.has(p)) this.partitions.delete(p)
  }

  /** The member lost every partition (it failed): nothing is its to commit until it takes records again. */
  reset(): void {
    this.partitions.clear()
  }

  /** Stops handing out (a consumer's close); `idle()` then waits for what is out to settle. */
  stop(): void {
    this.stopped = true
  }

  /** Resolves once every record handed out has settled. */
  idle(): Promise<void> {
    return this.handedOut.idle()
  }

  /** The position to commit of every partition whose position moved since its last commit. */
  positions(): Map<number, number> {
    const moved = new Map<number, number>()
    for (const [partition, state] of this.partitions) {
      const position = state.position()
      if (state.next >= 0 && position > state.committed) moved.set(partition, position)
    }
    return moved
  }

  /**
   * Commits the positions that moved through `write`, one commit at a time (a call made during one
   * runs after it), and marks them committed once `write` resolved. A `write` that fails goes to
   * `onFailure`, and the next call commits those positions again; `write` returning undefined (no
   * client to commit with) commits nothing. Resolves when this call's commit settled; never rejects.
   */
  commit(
    write: (positions: Map<number, number>) => Promise<void> | undefined,
    onFailure: (error: unknown) => void,
  ): Promise<void> {
    this.committing = this.committing.then(async () => {
      const positions = this.positions()
      if (positions.size === 0) return
      try {
        const written = write(positions)
        if (written === undefined) return
        await written
        this.committed(positions)
      } catch (error) {
        onFailure(error)
      }
    })
    return this.committing
  }

  /** `positions` were committed: what was acknowledged below them need not be remembered. */
  committed(positions: ReadonlyMap<number, number>): void {
    for (const [partition, position] of positions) {
      const state = this.partitions.get(partition)
      if (!state) continue
      state.committed = Math.max(state.committed, position)
      for (const offset of state.done) if (offset < position) state.done.delete(offset)
    }
  }

  /**
   * Hands one record to the handler and settles it: acknowledged when it resolved, to come again
   * when it rejected. Never throws. (One async function per record: a promise fewer.)
   */
  private async handOut(state: Partition, partition: number, record: R): Promise<void> {
    const { offset } = record
    // Most records are delivered once: look up earlier deliveries only when some were rejected.
    const id = this.redelivered.size > 0 ? `${partition}:${offset}` : undefined
    const deliveryCount = id === undefined ? 1 : (this.redelivered.get(id) ?? 0) + 1
    let ok = true
    try {
      await this.options.deliver(record, partition, deliveryCount)
      if (deliveryCount > 1) this.redelivered.delete(id!)
    } catch (error) {
      ok = false
      this.redelivered.set(id ?? `${partition}:${offset}`, deliveryCount)
      this.options.onRejected?.(error, partition, offset)
    }
    this.slots.release()
    state.inFlight.delete(offset)
    if (ok) {
      if (offset >= state.committed) state.done.add(offset)
    } else {
      state.failed.add(offset)
      setTimeout(() => this.again(state, partition, record), this.options.redeliveryDelayMs)
    }
    this.handedOut.leave()
  }

  /** A rejected record's pause is over: fetch from the lowest rejected one, or hand it out again. */
  private async again(state: Partition, partition: number, record: R): Promise<void> {
    const current = () => !this.stopped && this.partitions.get(partition) === state
    if (!current() || !state.failed.has(record.offset)) return
    // From the lowest rejected record: it and whatever after it is not acknowledged is fetched again.
    if (this.options.seek?.(partition, Math.min(...state.failed))) return
    await this.slots.acquire()
    if (!current() || !state.failed.delete(record.offset)) return this.slots.release()
    state.inFlight.add(record.offset)
    this.handedOut.enter()
    await this.handOut(state, partition, record)
  }
}

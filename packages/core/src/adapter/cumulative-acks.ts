export interface CumulativeAckOptions<M> {
  /** The delivery's number; it grows in the order deliveries are added (AMQP delivery tags on one channel). */
  readonly tagOf: (delivery: M) => number
  /** Acknowledges every delivery up to and including this one (AMQP `basic.ack` with `multiple`). */
  readonly ackUpTo: (delivery: M) => void
  /** Acknowledges this delivery alone. */
  readonly ack: (delivery: M) => void
  /** Gives this delivery back to the broker (sent at once, alone). */
  readonly reject: (delivery: M) => void
}

/**
 * Acknowledgements coalesced, for a broker whose ack can cover every delivery up to a number
 * (AMQP 0-9-1's `multiple`). Once per turn of the event loop the deliveries handled below the first
 * one still in its handler go out as one cumulative ack on the highest of them: that covers only
 * numbers at or below it, and every one of those has settled (nothing unsettled is ever
 * acknowledged). A delivery handled while an earlier one is still in its handler is acknowledged on
 * its own, so a slow handler never holds back the prefetch credit of the others. Rejections go out
 * at once. After `stop()` (the client's channel is gone, the broker redelivers what it did not get)
 * nothing is sent.
 */
export class CumulativeAcks<M> {
  /** Numbers of deliveries in their handlers; they only grow, so the first is the lowest. */
  private readonly pending = new Set<number>()
  /** Handled, not acknowledged yet. */
  private handled: M[] = []
  private scheduled = false
  private ended = false

  constructor(private readonly options: CumulativeAckOptions<M>) {}

  /** Whether `stop()` was called. */
  get stopped(): boolean {
    return this.ended
  }

  /** A delivery handed to its handler. */
  add(delivery: M): void {
    this.pending.add(this.options.tagOf(delivery))
  }

  /** Its handler resolved: acknowledged with the others of this turn. */
  ok(delivery: M): void {
    this.pending.delete(this.options.tagOf(delivery))
    this.handled.push(delivery)
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(() => this.flush())
  }

  /** Its handler rejected: given back at once. */
  reject(delivery: M): void {
    this.pending.delete(this.options.tagOf(delivery))
    this.send(() => this.options.reject(delivery))
  }

  /** Sends what has settled: one cumulative ack below the first unsettled delivery, single acks above it. */
  flush(): void {
    this.scheduled = false
    const { tagOf, ackUpTo, ack } = this.options
    const first = this.pending.values().next().value ?? Number.POSITIVE_INFINITY
    let front: M | undefined
    let frontTag = Number.NEGATIVE_INFINITY
    const behind: M[] = []
    for (const delivery of this.handled) {
      const tag = tagOf(delivery)
      if (tag > first) behind.push(delivery)
      else if (tag > frontTag) {
        front = delivery
        frontTag = tag
      }
    }
    this.handled = []
    this.send(() => {
      if (front !== undefined) ackUpTo(front)
      for (const delivery of behind) ack(delivery)
    })
  }

  /** Sends nothing from now on: the channel is gone and the broker redelivers what was not acknowledged. */
  stop(): void {
    this.ended = true
  }

  private send(settle: () => void): void {
    if (this.ended) return
    try {
      settle()
    } catch {
      // The client's channel is closing: the broker redelivers whatever was not settled.
    }
  }
}

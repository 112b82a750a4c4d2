import { Backoff, pause, retrying } from './retry.js'

export interface PullLoopOptions<M> {
  /** Most messages handed out and not yet settled, counting those asked for by receives in flight. */
  readonly maxInFlight: number
  /** Most messages one receive may ask for (SQS: 10). */
  readonly maxBatch: number
  /**
   * Receives in flight at once: one loop leaves the consumer idle for a round trip after every
   * batch, and parallel ones keep a wide subscription fed. Default: one per 4 of maxInFlight, at most 3.
   */
  readonly loops?: number
  /** Between failed receives: doubling from `minMs` to `maxMs`. Default 100 ms to 3 s. */
  readonly backoff?: { readonly minMs: number; readonly maxMs: number }
  /** Between empty receives, for a broker that answers at once when it has nothing (short polling). */
  readonly idle?: { readonly minMs: number; readonly maxMs: number }
  /** Asks the broker for at most `room` messages (a long poll may wait for them). */
  receive(room: number): Promise<readonly M[]>
  /** A receive failed (it is tried again after the backoff): say, open an `Outage`. */
  onError(error: unknown): void
  /** A receive answered: say, close the `Outage`. */
  onReceived?(): void
  /** Hands one message to the handler: resolving acknowledges it, rejecting gives it back. */
  handle(message: M): Promise<void> | void
  /** Acknowledges (`ok`) or gives back one message; never throws (the broker redelivers what it misses). */
  settle(message: M, ok: boolean): void
  /** Leases: every `everyMs`, `renew` each message held that long, so it stays this consumer's. */
  readonly lease?: { readonly everyMs: number; renew(message: M): void }
}

/**
 * A pull consumer's receive loops, for a broker that hands out messages on request (SQS receive,
 * any poll): each loop asks only for as many messages as there is room for under `maxInFlight`,
 * hands each to `handle` in the order received and settles it with the outcome, retries failed
 * receives with backoff and pauses after empty ones. `stop()` follows the contract's close order
 * (docs/ADAPTERS.md): no new receives, every receive returned, every handed-out message settled,
 * and only then gives back what arrived or was rejected meanwhile (a release while a receive is
 * still open hands the message straight back to it and raises its delivery count).
 */
export class PullLoops<M> {
  /** Messages handed out, with when their lease was last renewed. */
  private readonly held = new Map<M, number>()
  /** Messages asked for by receives in flight. */
  private reserved = 0
  private readonly released: M[] = []
  private readonly stopping = new AbortController()
  private readonly loops: Promise<void>[] = []
  private waiters: (() => void)[] = []
  private renewer: NodeJS.Timeout | undefined

  constructor(private readonly options: PullLoopOptions<M>) {}

  /** Messages handed out and not yet settled. */
  get size(): number {
    return this.held.size
  }

  start(): void {
    const { loops = Math.min(3, Math.ceil(this.options.maxInFlight / 4)) } = this.options
    for (let i = 0; i < loops; i++) this.loops.push(this.loop())
    const lease = this.options.lease
    if (!lease) return
    this.renewer = setInterval(() => {
      const due = Date.now() - lease.everyMs
      for (const [message, renewed] of this.held) {
        if (renewed > due) continue
        this.held.set(message, Date.now())
        lease.renew(message)
      }
    }, lease.everyMs)
    this.renewer.unref()
  }

  /** Stops receiving, waits for receives and handlers, then gives back what was left (see the class comment). */
  async stop(): Promise<void> {
    this.stopping.abort()
    this.wake()
    await Promise.all(this.loops)
    while (this.held.size > 0) await this.settled()
    clearInterval(this.renewer)
    for (const message of this.released.splice(0)) this.options.settle(message, false)
  }

  private async loop(): Promise<void> {
    const { signal } = this.stopping
    const { maxBatch, maxInFlight, backoff = { minMs: 100, maxMs: 3_000 }, idle } = this.options
    const idleness = idle && new Backoff(idle.minMs, idle.maxMs)
    while (!signal.aborted) {
      const room = Math.min(maxBatch, maxInFlight - this.held.size - this.reserved)
      if (room <= 0) {
        await this.settled()
        continue
      }
      this.reserved += room
      const messages = await retrying(() => this.options.receive(room), {
        ...backoff,
        signal,
        onError: (error) => this.options.onError(error),
      }).finally(() => {
        this.reserved -= room
      })
      if (messages === undefined) break // stopped while the broker was away
      this.options.onReceived?.()
      if (messages.length > 0) idleness?.reset()
      else if (idleness) await pause(idleness.next(), signal)
      for (const message of messages) {
        if (signal.aborted) this.released.push(message)
        else this.dispatch(message)
      }
    }
  }

  private dispatch(message: M): void {
    this.held.set(message, Date.now())
    const settle = (ok: boolean) => {
      this.held.delete(message)
      if (!ok && this.stopping.signal.aborted) this.released.push(message)
      else this.options.settle(message, ok)
      this.wake()
    }
    // Called now; a handler that throws counts as a rejection.
    new Promise<void>((resolve) => resolve(this.options.handle(message))).then(
      () => settle(true),
      () => settle(false),
    )
  }

  /** Resolves at the next settle (or stop). */
  private settled(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  private wake(): void {
    for (const wake of this.waiters.splice(0)) wake()
  }
}

import type { Logger } from '../logger.js'
import { Outage } from './outage.js'
import { Backoff, pause } from './retry.js'
import { KeyedSerial } from './serial.js'

export interface ResendLineOptions {
  /** Pauses before each probe: from `minMs`, doubled per refusal up to `maxMs`. */
  readonly minMs: number
  readonly maxMs: number
  readonly logger: Logger
  /** Log lines of an outage `failed` gave a reason for: `failing` (warn, once), `back` (info, `outageMs`). */
  readonly say: { readonly failing: string; readonly back: string }
}

/**
 * Resends that keep the order of a key (a channel) for a broker that confirms each message but may
 * refuse some (an AMQP nack) or lose their answer with the connection. A send some of whose items
 * were not taken marks its key failing and waits in the key's line, in call order, as does every
 * send to a failing key. The send at the head probes with its first item alone, pausing with
 * backoff before each try, until the broker takes it; then it sends the rest at once (probing
 * again if some are refused) and leaves, and the next in line goes. So nothing sent later
 * overtakes an item held back, and an outage costs one message in flight per key, not a storm of
 * resends. Each send's signal (its publish deadline) bounds it: one whose deadline passed leaves
 * the line. What cannot be kept: items in flight together when the outage begins or ends may be
 * taken out of order (one refused, a later one taken in the same round trip).
 */
export class ResendLine<T> {
  private readonly line = new KeyedSerial()
  /**
   * The keys failing or with sends in line: whether the next send must probe, how many sends wait,
   * and the outage, logged when `failed` was given a reason and ended (info) once the line is empty.
   */
  private readonly keys = new Map<string, { failing: boolean; waiting: number; outage: Outage }>()

  constructor(private readonly options: ResendLineOptions) {}

  /**
   * Sends `items` to `key` with `attempt`, which sends those it is given (in order) and resolves
   * with those the broker did not take, to be sent again; a rejection (a refusal no resend can
   * change) ends the send. Resolves when all are taken or `signal` aborted.
   */
  async send(
    key: string,
    items: readonly T[],
    attempt: (items: readonly T[]) => Promise<readonly T[]>,
    signal: AbortSignal,
  ): Promise<void> {
    const left = this.keys.has(key) ? items : await attempt(items)
    if (left.length === 0 || signal.aborted) return
    this.failed(key)
    const state = this.keys.get(key)!
    state.waiting++
    try {
      await this.line.run(key, () => this.turn(state, left, attempt, signal))
    } finally {
      if (--state.waiting === 0 && !state.failing) {
        state.outage.end(this.options.say.back)
        this.keys.delete(key)
      }
    }
  }

  /** Marks `key` failing; with `reason`, its outage is logged (once at warn; its end at info, line empty). */
  failed(key: string, reason?: string): void {
    let state = this.keys.get(key)
    if (state === undefined) {
      state = { failing: true, waiting: 0, outage: new Outage(this.options.logger, { channel: key }) }
      this.keys.set(key, state)
    }
    state.failing = true
    if (reason !== undefined) state.outage.begin(this.options.say.failing, { reason })
  }

  /** A send's turn at the head of its key's line: probes while the key fails, sends the rest when not. */
  private async turn(
    state: { failing: boolean },
    items: readonly T[],
    attempt: (items: readonly T[]) => Promise<readonly T[]>,
    signal: AbortSignal,
  ): Promise<void> {
    const backoff = new Backoff(this.options.minMs, this.options.maxMs)
    let left = items
    while (left.length > 0 && !signal.aborted) {
      if (!state.failing) {
        left = await attempt(left)
        state.failing = left.length > 0
        continue
      }
      await pause(backoff.next(), signal)
      if (signal.aborted) break
      const refused = (await attempt(left.slice(0, 1))).length > 0
      if (refused || signal.aborted) continue // an attempt cut short by the deadline says nothing
      state.failing = false
      backoff.reset()
      left = left.slice(1)
    }
  }
}

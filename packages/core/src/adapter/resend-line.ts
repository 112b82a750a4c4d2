import type { Logger } from '../logger.js'
import { Outage } from './outage.js'
import { Backoff, pause } from './retry.js'

export interface ResendLineOptions {
  /** Pauses before each probe: from `minMs`, doubled per refusal up to `maxMs`. */
  readonly minMs: number
  readonly maxMs: number
  readonly logger: Logger
  /** Log lines of an outage `failed` gave a reason for: `failing` (warn, once), `back` (info, `outageMs`). */
  readonly say: { readonly failing: string; readonly back: string }
}

/**
 * One send's attempt: sends `items` (in order), calls `written` once they are all handed to the
 * connection (before their answers), and resolves with those the broker did not take, to be sent
 * again; a rejection (a refusal no resend can change) ends the send.
 */
export type ResendAttempt<T> = (items: readonly T[], written: () => void) => Promise<readonly T[]>

/**
 * Resends that keep the order of a key (a channel) for a broker that confirms each message but may
 * refuse some (an AMQP nack) or lose their answer with the connection. A send some of whose items
 * were not taken marks its key failing and waits in the key's line, in call order, as does every
 * send to a key with a line. The send at the head probes with its first item alone, pausing with
 * backoff before each try, until the broker takes it; then it sends the rest and gives up the head
 * as soon as they are written, not answered, so the sends behind it follow at the connection's
 * pace (a busy key drains its line instead of going one round trip per send). So nothing sent
 * later overtakes an item held back, and an outage costs one message in flight per key, not a
 * storm of resends. Each send's signal (its publish deadline) bounds it: one whose deadline passed
 * leaves the line. What cannot be kept: items in flight together when the outage begins or ends
 * may be taken out of order (one refused, a later one taken in the same round trip).
 */
export class ResendLine<T> {
  /**
   * The keys failing or with sends in line: whether the head must probe, the line (in call order),
   * the pipelined sends not yet answered, whether a pump runs, and the outage, logged when `failed`
   * was given a reason and ended (info) once the key is taken again. A key leaves once its line is
   * empty and nothing is unanswered, failing or not: a channel never used again (an asker's reply
   * queue) leaves nothing behind; its next send simply goes out whole.
   */
  private readonly keys = new Map<string, KeyState<T>>()
  /** Sends of each key on their first attempt, outside any line (a refusal they report makes the key). */
  private readonly flying = new Map<string, number>()
  private calls = 0

  constructor(private readonly options: ResendLineOptions) {}

  /** Sends `items` to `key` with `attempt`; resolves when all are taken or `signal` aborted. */
  async send(
    key: string,
    items: readonly T[],
    attempt: ResendAttempt<T>,
    signal: AbortSignal,
  ): Promise<void> {
    const order = this.calls++
    let left = items
    if (!this.keys.has(key)) {
      this.flying.set(key, (this.flying.get(key) ?? 0) + 1)
      try {
        left = await call(attempt, items, noop)
      } finally {
        const still = this.flying.get(key)! - 1
        if (still === 0) this.flying.delete(key)
        else this.flying.set(key, still)
      }
      if (left.length === 0 || signal.aborted) return this.tidy(key) // what it marked failing, nothing in line
      this.failing(key)
    }
    const state = this.keys.get(key)!
    return new Promise<void>((resolve, reject) => {
      this.enter(state, { order, items: left, attempt, signal, resolve, reject })
      void this.pump(key, state)
    })
  }

  /** Marks `key` failing; with `reason`, its outage is logged (once at warn; its end at info). */
  failed(key: string, reason?: string): void {
    if (!this.keys.has(key) && !this.flying.has(key)) return // a late answer to a send no one waits for
    const state = this.failing(key)
    if (reason !== undefined) state.outage.begin(this.options.say.failing, { reason })
  }

  /** The key's state, made if need be, marked failing. */
  private failing(key: string): KeyState<T> {
    let state = this.keys.get(key)
    if (state === undefined) {
      const outage = new Outage(this.options.logger, { channel: key })
      state = { failing: true, line: [], unanswered: 0, pumping: false, outage }
      this.keys.set(key, state)
    }
    state.failing = true
    return state
  }

  /** Puts a send in its place by call order (one refused again goes back before those called after it). */
  private enter(state: KeyState<T>, send: Waiting<T>): void {
    const at = state.line.findIndex((other) => other.order > send.order)
    state.line.splice(at === -1 ? state.line.length : at, 0, send)
  }

  /**
   * Works a key's line from its head: while the key fails, the head probes with its first item
   * alone, with backoff, until the broker takes it; otherwise the head's items are sent and the
   * next send goes as soon as they are written. A send refused again goes back into the line.
   */
  private async pump(key: string, state: KeyState<T>): Promise<void> {
    if (state.pumping) return
    state.pumping = true
    const backoff = new Backoff(this.options.minMs, this.options.maxMs)
    try {
      for (let head = state.line[0]; head !== undefined; head = state.line[0]) {
        if (head.signal.aborted) this.leave(state, head)
        else if (state.failing) {
          await pause(backoff.next(), head.signal)
          // A send refused meanwhile may have gone back ahead of this one: probe with the head.
          if (head !== state.line[0] || head.signal.aborted) continue
          const probe = call(head.attempt, head.items.slice(0, 1), noop)
          const refused = await Promise.race([probe, stopped(head)]).then(
            (left) => left === undefined || left.length > 0, // undefined: the deadline passed first
            (error: unknown) => this.leave(state, head, error),
          )
          if (refused !== false) continue
          state.failing = false
          backoff.reset()
          if (head.signal.aborted) continue // taken, though its send no longer waits
          head.items = head.items.slice(1)
          if (head.items.length === 0) this.leave(state, head)
        } else await this.pipeline(key, state, head)
      }
    } finally {
      state.pumping = false
      this.tidy(key)
    }
  }

  /** Sends the head's items and returns once they are written; their answers come later. */
  private async pipeline(key: string, state: KeyState<T>, head: Waiting<T>): Promise<void> {
    state.line.shift()
    state.unanswered++
    let written: () => void = noop
    const handed = new Promise<void>((resolve) => {
      written = resolve
    })
    const answered = call(head.attempt, head.items, written).then(
      (left) => {
        if (left.length === 0 || head.signal.aborted) return head.resolve()
        state.failing = true
        head.items = left
        this.enter(state, head)
        void this.pump(key, state)
      },
      (error: unknown) => head.reject(error),
    )
    void answered.finally(() => {
      state.unanswered--
      this.tidy(key)
    })
    await Promise.race([handed, answered, stopped(head)])
  }

  private leave(state: KeyState<T>, send: Waiting<T>, error?: unknown): undefined {
    state.line.splice(state.line.indexOf(send), 1)
    if (error === undefined) send.resolve()
    else send.reject(error)
    return undefined
  }

  /** Forgets a key with nothing in line or unanswered; its outage ends if it is taken again. */
  private tidy(key: string): void {
    const state = this.keys.get(key)
    const busy = state === undefined || state.line.length > 0 || state.unanswered > 0 || state.pumping
    if (busy || this.flying.has(key)) return
    if (!state.failing) state.outage.end(this.options.say.back)
    this.keys.delete(key)
  }
}

interface Waiting<T> {
  readonly order: number
  items: readonly T[]
  readonly attempt: ResendAttempt<T>
  readonly signal: AbortSignal
  readonly resolve: () => void
  readonly reject: (error: unknown) => void
  stopped?: Promise<undefined>
}

interface KeyState<T> {
  failing: boolean
  readonly line: Waiting<T>[]
  unanswered: number
  pumping: boolean
  readonly outage: Outage
}

const noop = () => undefined

/** Calls `attempt`, a synchronous throw becoming a rejection. */
function call<T>(attempt: ResendAttempt<T>, items: readonly T[], written: () => void): Promise<readonly T[]> {
  return new Promise((resolve) => resolve(attempt(items, written)))
}

/**
 * Resolves (with undefined) once the send's signal aborts, so that an attempt that never settles
 * holds no line past its deadline; one listener per send, however many probes race it.
 */
function stopped<T>(send: Waiting<T>): Promise<undefined> {
  send.stopped ??= new Promise((resolve) => {
    if (send.signal.aborted) resolve(undefined)
    else send.signal.addEventListener('abort', () => resolve(undefined), { once: true })
  })
  return send.stopped
}

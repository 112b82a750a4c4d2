import { Backoff, pause } from './retry.js'

export interface ResendOptions<T> {
  /**
   * One attempt: sends `items`, resolving with those the broker refused (index into `items` → why);
   * throws when the attempt failed as a whole (every item then fails with that error).
   */
  send(items: T[], signal: AbortSignal): Promise<ReadonlyMap<number, unknown> | undefined>
  /**
   * What a failure means: undefined to send the item again after the backoff (forget here what the
   * broker may have lost), else the error the item fails with. Asked once per error and attempt.
   */
  verdict(error: unknown): unknown
  /** Between attempts that left items to send again: doubling from `minMs` to `maxMs`. */
  readonly backoff: { readonly minMs: number; readonly maxMs: number }
  /** The deadline (publishTimeoutMs): no attempt starts after it aborts. */
  readonly signal: AbortSignal
}

/**
 * A publish that sends again what failed for a reason that may pass (the broker unreachable,
 * throttled, the channel vanished), until everything was confirmed, failed for good, or the
 * deadline passed. Resolves with the items that were not confirmed (index → error): those that
 * failed for good with their verdict, those still unsent at the deadline with the last failure
 * seen. Empty: all confirmed. Never rejects.
 */
export async function resend<T>(
  items: readonly T[],
  options: ResendOptions<T>,
): Promise<Map<number, unknown>> {
  const { signal } = options
  const failures = new Map<number, unknown>()
  const backoff = new Backoff(options.backoff.minMs, options.backoff.maxMs)
  let pending = items.map((item, index) => ({ item, index }))
  let last: unknown
  while (pending.length > 0 && !signal.aborted) {
    let failed: ReadonlyMap<number, unknown> | undefined
    try {
      failed = await options.send(
        pending.map((p) => p.item),
        signal,
      )
      // Progress starts the pauses again; a broker that answers but refuses everything (an
      // outage seen item by item) is paused for longer each time, as one that throws.
      if (failed === undefined || failed.size < pending.length) backoff.reset()
    } catch (error) {
      failed = new Map(pending.map((_, i) => [i, error]))
    }
    const verdicts = new Map<unknown, unknown>()
    const again: typeof pending = []
    for (const [i, p] of pending.entries()) {
      if (!failed?.has(i)) continue
      const error = failed.get(i)
      if (!verdicts.has(error)) verdicts.set(error, options.verdict(error))
      const final = verdicts.get(error)
      last = error
      if (final === undefined) again.push(p)
      else failures.set(p.index, final)
    }
    pending = again
    if (pending.length > 0) await pause(backoff.next(), signal)
  }
  const expired = new Error('not confirmed before the deadline')
  for (const p of pending) failures.set(p.index, last ?? expired)
  return failures
}

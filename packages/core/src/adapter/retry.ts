/** Delays that double from `minMs` up to `maxMs`; `reset()` after a success starts over. */
export class Backoff {
  private current = 0

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {}

  next(): number {
    this.current = Math.min(this.maxMs, Math.max(this.minMs, this.current * 2))
    return this.current
  }

  reset(): void {
    this.current = 0
  }
}

/** Resolves after `ms`, or as soon as `signal` aborts (never rejects: the caller checks the signal). */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}

export interface RetryOptions {
  readonly minMs: number
  readonly maxMs: number
  /** Stops the retries: `retrying` then resolves undefined. */
  readonly signal?: AbortSignal
  /** Told about every failure before the pause, e.g. to log it or to forget a cached resource. */
  readonly onError?: (error: unknown, retryInMs: number, attempt: number) => void
  /** Whether a failure is worth another attempt; one it refuses is thrown at once. Default: all are. */
  readonly retryIf?: (error: unknown, attempt: number) => boolean
}

/**
 * Calls `attempt` until it succeeds, pausing with backoff between failures: for reconnect and
 * re-provision loops that must keep trying until the broker is back or the caller stops them
 * (or `retryIf` refuses a failure, which is then thrown).
 */
export async function retrying<T>(attempt: () => Promise<T>, options: RetryOptions): Promise<T | undefined> {
  const backoff = new Backoff(options.minMs, options.maxMs)
  for (let n = 1; !options.signal?.aborted; n++) {
    try {
      return await attempt()
    } catch (error) {
      if (options.signal?.aborted) break
      if (options.retryIf && !options.retryIf(error, n)) throw error
      const delay = backoff.next()
      options.onError?.(error, delay, n)
      await pause(delay, options.signal)
    }
  }
  return undefined
}

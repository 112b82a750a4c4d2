import type { OptionSpec } from '../config/check.js'
import { OmnibusError } from '../errors.js'

/** How long a publish may wait for the broker's confirm before it fails, unless configured. */
export const DEFAULT_PUBLISH_TIMEOUT_MS = 5_000

/** The `publishTimeoutMs` option every adapter declares (see docs/ADAPTERS.md). */
export const publishTimeoutOption = { type: 'duration' } as const satisfies OptionSpec

/**
 * `work`, or a PUBLISH_FAILED OmnibusError once `ms` have passed without it settling, so no
 * caller waits on a broker longer than the configured time. The timer is cleared when `work`
 * settles, so a confirmed publish leaves nothing behind. `onTimeout` lets the adapter free what
 * the stuck publish holds (a slot, a batch); `work` given as a function gets a signal that aborts
 * then (its waits and resends stop). A late settle of `work` is ignored (and its rejection
 * handled) because the caller has been answered.
 */
export function withDeadline<T>(
  work: Promise<T> | ((signal: AbortSignal) => Promise<T>),
  ms: number,
  describe: () => string,
  onTimeout?: () => void,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const stop = new AbortController()
  const running = typeof work === 'function' ? work(stop.signal) : work
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      stop.abort()
      onTimeout?.()
      reject(
        new OmnibusError(
          'PUBLISH_FAILED',
          `${describe()}: the broker did not confirm within publishTimeoutMs (${ms} ms); ` +
            'the event may or may not have been stored. Check that the broker is reachable, ' +
            'or raise publishTimeoutMs.',
        ),
      )
    }, ms)
  })
  running.catch(() => {})
  return Promise.race([running, expired]).finally(() => clearTimeout(timer))
}

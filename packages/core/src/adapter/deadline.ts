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
 * the stuck publish holds (a slot, a batch); a late settle of `work` is ignored (and its
 * rejection handled) because the caller has been answered.
 */
export function withDeadline<T>(
  work: Promise<T>,
  ms: number,
  describe: () => string,
  onTimeout?: () => void,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
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
  work.catch(() => {})
  return Promise.race([work, expired]).finally(() => clearTimeout(timer))
}

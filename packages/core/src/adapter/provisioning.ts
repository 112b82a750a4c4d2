import { OmnibusError } from '../errors.js'
import { adapterError } from './errors.js'

/**
 * The groups a transport knows per channel, each under a key (its queue or subscription name):
 * made by `provision`, seen by `subscribe`, or seen on the broker. They are what a publisher
 * makes again before it confirms into a channel the broker lost, so that no event is confirmed
 * to nobody ("No confirm into the void", docs/ADAPTERS.md).
 */
export class KnownGroups<G = string> {
  private readonly channels = new Map<string, Map<string, G>>()

  add(channel: string, key: string, group: G): void {
    this.channels.set(channel, (this.channels.get(channel) ?? new Map<string, G>()).set(key, group))
  }

  remove(channel: string, key: string): void {
    const groups = this.channels.get(channel)
    if (groups?.delete(key) && groups.size === 0) this.channels.delete(channel)
  }

  /** The groups known on `channel`, in the order they became known. */
  of(channel: string): G[] {
    return [...(this.channels.get(channel)?.values() ?? [])]
  }

  /** Whether any group is known on `channel`. */
  has(channel: string): boolean {
    return this.channels.has(channel)
  }
}

/**
 * CHANNEL_NOT_FOUND for `what` (`SNS topic "orders" of channel "orders"`), saying why nothing
 * made it: the channel must exist (a reply channel is never created by publishing: its asker
 * has gone), or provisioning is off. The same words in every adapter.
 */
export function channelNotFound(
  adapter: string,
  what: string,
  mustExist: boolean | undefined,
  cause?: unknown,
): OmnibusError {
  const why = mustExist
    ? 'it is never created by publishing (a reply whose asker has gone)'
    : 'provisioning is off (provision: false); create it, or turn provisioning on'
  return adapterError(adapter, 'CHANNEL_NOT_FOUND', `${what} does not exist and ${why}`, cause)
}

/**
 * The OmnibusError a failed make or look-up of `what` amounts to, worded alike in every adapter:
 * an OmnibusError stays as it is; a resource the broker says is `missing` is CHANNEL_NOT_FOUND
 * (see channelNotFound); an `unreachable` broker is TRANSPORT_UNAVAILABLE; any `other` failure is
 * PROVISIONING_FAILED saying what to `check` (permissions, names).
 */
export function provisioningFailure(
  adapter: string,
  what: string,
  error: unknown,
  kind: 'missing' | 'unreachable' | 'other',
  check: string,
  mustExist?: boolean,
): OmnibusError {
  if (error instanceof OmnibusError) return error
  if (kind === 'missing') return channelNotFound(adapter, what, mustExist, error)
  if (kind === 'unreachable')
    return adapterError(
      adapter,
      'TRANSPORT_UNAVAILABLE',
      `cannot reach the broker to set up ${what}; is it up?`,
      error,
    )
  return adapterError(adapter, 'PROVISIONING_FAILED', `could not set up ${what}; check ${check}`, error)
}

import { brokerName } from '@omnibus/core/adapter'

/** SNS topic and SQS queue names: at most 80 characters of [A-Za-z0-9_-], `.fifo` included. */
const MAX_NAME = 80
const FIFO_SUFFIX = '.fifo'

/**
 * Maps an Omnibus name onto a valid AWS resource name, deterministically, so that
 * every process finds the same topic or queue. A name that is already valid stays
 * as it is; one that had to change (dots, slashes, too long) gets a short hash of
 * the original, so that `a.b` and `a_b` never meet in one queue.
 */
export function resourceName(prefix: string, name: string, fifo: boolean): string {
  const maxLength = MAX_NAME - prefix.length - (fifo ? FIFO_SUFFIX.length : 0)
  return `${prefix}${brokerName(name, { invalid: /[^A-Za-z0-9_-]/g, maxLength })}${fifo ? FIFO_SUFFIX : ''}`
}

/**
 * The queue of one group on a topic channel. The `~` joiner never survives
 * sanitising, so these names always carry a hash and never collide with a
 * queue channel's own queue.
 */
export function groupQueueName(prefix: string, channel: string, group: string, fifo: boolean): string {
  return resourceName(prefix, `${channel}~${group}`, fifo)
}

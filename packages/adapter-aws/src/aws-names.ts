import { createHash } from 'node:crypto'

/** SNS topic and SQS queue names: at most 80 characters of [A-Za-z0-9_-], `.fifo` included. */
const MAX_NAME = 80
const FIFO_SUFFIX = '.fifo'
const HASH_LENGTH = 8

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, HASH_LENGTH)
}

/**
 * Maps an Omnibus name onto a valid AWS resource name, deterministically, so that
 * every process finds the same topic or queue. A name that is already valid stays
 * as it is; one that had to change (dots, slashes, too long) gets a short hash of
 * the original, so that `a.b` and `a_b` never meet in one queue.
 */
export function resourceName(prefix: string, name: string, fifo: boolean): string {
  const room = MAX_NAME - prefix.length - (fifo ? FIFO_SUFFIX.length : 0)
  const clean = name.replace(/[^A-Za-z0-9_-]/g, '_')
  let base = clean
  if (clean !== name || clean.length > room) {
    base = `${clean.slice(0, room - HASH_LENGTH - 1)}-${shortHash(name)}`
  }
  return `${prefix}${base}${fifo ? FIFO_SUFFIX : ''}`
}

/**
 * The queue of one group on a topic channel. The `~` joiner never survives
 * sanitising, so these names always carry a hash and never collide with a
 * queue channel's own queue.
 */
export function groupQueueName(prefix: string, channel: string, group: string, fifo: boolean): string {
  return resourceName(prefix, `${channel}~${group}`, fifo)
}

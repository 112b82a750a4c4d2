import { Semaphore } from '../util/async.js'

const limits = new Map<string, Semaphore>()

/**
 * A limit on broker calls in flight shared by every transport of this process that asks with the
 * same `key` (say, the endpoint and region) and `size`: many buses in one process (tests, or one
 * per tenant) then cannot flood a service between them, each taking `size` calls of its own.
 */
export function sharedLimit(key: string, size: number): Semaphore {
  const name = `${key}\u0000${size}`
  let limit = limits.get(name)
  if (!limit) {
    limit = new Semaphore(size)
    limits.set(name, limit)
  }
  return limit
}

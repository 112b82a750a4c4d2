import { checkCount, checkDurationArgument, checkOptionsObject } from '../bus/arguments.js'
import { Ext } from '../envelope/envelope.js'
import { type Middleware, SKIPPED } from './middleware.js'

/**
 * Remembers which deliveries were handled. `claim` must be atomic: of two
 * concurrent claims of one key, only one may return true.
 */
export interface IdempotencyStore {
  /** True if `key` was not claimed (or its claim expired) and is now claimed for `ttlMs`. */
  claim(key: string, ttlMs: number): Promise<boolean>
  /** Forgets a claim, so that a failed attempt can be retried. */
  release(key: string): Promise<void>
}

/** An in-process store that keeps the newest `maxKeys` claims (least recently claimed dropped first). */
export class MemoryIdempotencyStore implements IdempotencyStore {
  /** Claims in the order they were made (a Map keeps insertion order): the oldest first. */
  private readonly keys = new Map<string, number>()
  /**
   * One iterator walks the Map from its oldest entry for as long as it lives. A fresh
   * `keys()` per eviction would step over every slot deleted since the Map last
   * compacted, which made eviction linear in the evictions so far (claims dropped
   * from 1.25 M/s to ~9 k/s past maxKeys).
   */
  private oldest: Iterator<string> | undefined
  constructor(private readonly maxKeys = 100_000) {
    checkCount(maxKeys, 'maxKeys')
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    const now = Date.now()
    const expires = this.keys.get(key)
    if (expires !== undefined && expires > now) return false
    this.keys.delete(key)
    this.keys.set(key, now + ttlMs)
    if (this.keys.size > this.maxKeys) this.evictOldest()
    return true
  }

  private evictOldest(): void {
    this.oldest ??= this.keys.keys()
    let next = this.oldest.next()
    // An exhausted iterator stays exhausted, even after new entries: start another.
    if (next.done) {
      this.oldest = this.keys.keys()
      next = this.oldest.next()
    }
    if (!next.done) this.keys.delete(next.value)
  }

  async release(key: string): Promise<void> {
    this.keys.delete(key)
  }

  get size(): number {
    return this.keys.size
  }
}

export interface IdempotencyOptions {
  /** Where claims live. Default: a MemoryIdempotencyStore (one process only; use a shared store across instances). */
  store?: IdempotencyStore
  /** How long a handled id is remembered. Default 24 h. */
  ttlMs?: number
}

/**
 * Handles each event and command once per group, by CloudEvents identity
 * (`source` + `id`): a duplicate of a handled one is acknowledged without calling
 * the handler and counted as `skipped`. A failed attempt releases its claim, so
 * retries and redeliveries still run. Queries are not deduplicated: a query reads,
 * and an asker repeating one (same id) is waiting for an answer, so every query
 * that arrives is answered.
 */
export function idempotency(options: IdempotencyOptions = {}): Middleware {
  const store = options.store ?? new MemoryIdempotencyStore()
  checkOptionsObject(options)
  checkDurationArgument(options.ttlMs, 'options.ttlMs')
  const ttlMs = options.ttlMs ?? 24 * 60 * 60 * 1000
  return async (event, context, next) => {
    if (event[Ext.kind] === 'query') return next()
    const key = `${context.group}\u0000${event.source}\u0000${event.id}`
    if (!(await store.claim(key, ttlMs))) {
      context.logger.debug('duplicate delivery skipped', { id: event.id, type: event.type })
      return SKIPPED
    }
    try {
      return await next()
    } catch (error) {
      await store.release(key)
      throw error
    }
  }
}

import type { Middleware } from './middleware.js'

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
  private readonly keys = new Map<string, number>()
  constructor(private readonly maxKeys = 100_000) {}

  async claim(key: string, ttlMs: number): Promise<boolean> {
    const now = Date.now()
    const expires = this.keys.get(key)
    if (expires !== undefined && expires > now) return false
    this.keys.delete(key)
    this.keys.set(key, now + ttlMs)
    if (this.keys.size > this.maxKeys) this.keys.delete(this.keys.keys().next().value as string)
    return true
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
 * Handles each event once per group, by CloudEvents identity (`source` + `id`):
 * a duplicate of a handled event is acknowledged without calling the handler.
 * A failed attempt releases its claim, so retries and redeliveries still run.
 */
export function idempotency(options: IdempotencyOptions = {}): Middleware {
  const store = options.store ?? new MemoryIdempotencyStore()
  const ttlMs = options.ttlMs ?? 24 * 60 * 60 * 1000
  return async (event, context, next) => {
    const key = `${context.group}\u0000${event.source}\u0000${event.id}`
    if (!(await store.claim(key, ttlMs))) {
      context.logger.debug('duplicate delivery skipped', { id: event.id, type: event.type })
      return undefined
    }
    try {
      return await next()
    } catch (error) {
      await store.release(key)
      throw error
    }
  }
}

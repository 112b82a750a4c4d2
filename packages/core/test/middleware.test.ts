import { describe, expect, it } from 'vitest'
import { createEvent, MemoryIdempotencyStore } from '../src/adapter/index.js'
import { backoffDelay, defaultRetry } from '../src/bus/retry.js'
import { type HandlerContext, idempotency } from '../src/index.js'
import { silentLogger } from '../src/logger.js'
import { compose } from '../src/middleware/middleware.js'

const context = (group = 'g') => ({ group, logger: silentLogger }) as unknown as HandlerContext

describe('middleware', () => {
  it('composes in order around the handler', async () => {
    const trail: string[] = []
    const run = compose(
      [
        async (_e, _c, next) => {
          trail.push('a>')
          const r = await next()
          trail.push('<a')
          return r
        },
        async (_e, _c, next) => {
          trail.push('b>')
          return next()
        },
      ],
      async () => {
        trail.push('handler')
        return 42
      },
    )
    expect(await run(createEvent({ type: 't', source: 's' }), context())).toBe(42)
    expect(trail).toEqual(['a>', 'b>', 'handler', '<a'])
  })

  it('idempotency: handles an id once per group, again after a failure', async () => {
    let calls = 0
    let fail = true
    const run = compose([idempotency()], async () => {
      calls++
      if (fail) throw new Error('first try fails')
    })
    const e = createEvent({ type: 't', source: 's', id: 'x' })
    await expect(run(e, context())).rejects.toThrow('first try fails')
    fail = false
    await run(e, context())
    await run(e, context())
    expect(calls).toBe(2)
    await run(e, context('other-group'))
    expect(calls).toBe(3)
    await run(createEvent({ type: 't', source: 'elsewhere', id: 'x' }), context())
    expect(calls).toBe(4)
  })

  it('the memory store forgets the oldest keys beyond its size, and expired ones', async () => {
    const store = new MemoryIdempotencyStore(2)
    expect(await store.claim('a', 60_000)).toBe(true)
    expect(await store.claim('a', 60_000)).toBe(false)
    await store.claim('b', 60_000)
    await store.claim('c', 60_000)
    expect(store.size).toBe(2)
    expect(await store.claim('a', 60_000)).toBe(true)
    expect(await store.claim('short', -1)).toBe(true)
    expect(await store.claim('short', 60_000)).toBe(true)
  })

  it('backoff grows exponentially with jitter inside [half, full] and is capped', () => {
    const policy = { ...defaultRetry, initialDelayMs: 100, maxDelayMs: 1000 }
    expect(backoffDelay(policy, 1, () => 0)).toBe(50)
    expect(backoffDelay(policy, 1, () => 1)).toBe(100)
    expect(backoffDelay(policy, 3, () => 1)).toBe(400)
    expect(backoffDelay(policy, 10, () => 1)).toBe(1000)
    expect(backoffDelay(policy, 10, () => 0)).toBe(500)
  })
})

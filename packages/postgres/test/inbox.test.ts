import { idempotency } from '@omnibus/core'
import { afterAll, describe, expect, it } from 'vitest'
import { Relay, transactionOf } from '../src/index.js'
import { cleanUp, count, freshDurable, memoryBus, newPool, uniq, waitFor } from './helpers.js'

const pool = newPool(20)
afterAll(() => cleanUp(pool))

describe('PostgresIdempotencyStore', () => {
  it('is shared by instances and survives them: each id handled once per group', async () => {
    const durable = await freshDurable(pool)
    const type = uniq('com.test.idem')
    const handled: string[] = []
    const instance = async () => {
      const bus = await memoryBus('idem')
      bus.use(idempotency({ store: durable.idempotencyStore() }))
      bus.on(type, async (e) => void handled.push(e.id))
      await bus.start()
      return bus
    }
    const [a, b] = [await instance(), await instance()]
    await a.publish({ type, id: 'one', data: 1 })
    await b.publish({ type, id: 'one', data: 1 })
    await a.publish({ type, id: 'two', data: 2 })
    await waitFor('two handled', () => handled.length >= 2)
    await Promise.all([a.stop(), b.stop()])
    const c = await instance() // a restarted instance remembers
    await c.publish({ type, id: 'one', data: 1 })
    await c.publish({ type, id: 'three', data: 3 })
    await waitFor('three handled', () => handled.includes('three'))
    await c.stop()
    expect(handled.sort()).toEqual(['one', 'three', 'two'])
  })

  it('forgets a claim after its window, and a released one at once', async () => {
    const durable = await freshDurable(pool)
    const store = durable.idempotencyStore()
    expect(await store.claim('k', 100)).toBe(true)
    expect(await store.claim('k', 100)).toBe(false)
    await store.release('k')
    expect(await store.claim('k', 50)).toBe(true)
    await new Promise((r) => setTimeout(r, 80)) // the 50 ms window passes
    expect(await store.claim('k', 50)).toBe(true)
  })
})

describe('transactional inbox', () => {
  it("commits the handler's writes, its outbox messages and the inbox row together; a duplicate has no second effect", async () => {
    const durable = await freshDurable(pool)
    await pool.query(`create table ${durable.schema}.stock (order_id text primary key, qty int not null)`)
    const type = uniq('com.test.reserve')
    const reply = uniq('com.test.reserved')
    const bus = await memoryBus('inbox', { delivery: { maxAttempts: 5, initialDelayMs: 10 } })
    bus.use(durable.inbox())
    let calls = 0
    let failOnce = true
    bus.handle(type, async (cmd, ctx) => {
      calls++
      const tx = transactionOf(ctx)
      const { orderId } = cmd.data as { orderId: string }
      await tx.client.query(`insert into ${durable.schema}.stock values ($1, 1)`, [orderId])
      await tx.send({ type: reply, data: { orderId } })
      // The first attempt fails after writing: all of it must roll back.
      if (orderId === 'o-2' && failOnce) {
        failOnce = false
        throw new Error('boom')
      }
    })
    const replies: { id: string; correlationid: unknown }[] = []
    bus.handle(reply, async (e) => void replies.push({ id: e.id, correlationid: e.correlationid }))
    await durable.start(bus, { pollIntervalMs: 60_000 })

    await bus.send({ type, id: 'c-1', data: { orderId: 'o-1' }, correlationid: 'corr-1' })
    await bus.send({ type, id: 'c-2', data: { orderId: 'o-2' } })
    // Duplicates: redelivery after a commit, and two copies at once.
    await bus.send({ type, id: 'c-1', data: { orderId: 'o-1' }, correlationid: 'corr-1' })
    await Promise.all([
      bus.send({ type, id: 'c-3', data: { orderId: 'o-3' } }),
      bus.send({ type, id: 'c-3', data: { orderId: 'o-3' } }),
    ])
    await waitFor('three replies', () => replies.length >= 3)
    await waitFor('the duplicates acknowledged', () => bus.stats().handled >= 3 + 3)
    await durable.stop()

    expect(calls).toBe(4) // o-1, o-2 twice (the failed attempt and its retry), o-3
    expect(await count(pool, `select count(*) as n from ${durable.schema}.stock`)).toBe(3)
    expect(replies).toHaveLength(3)
    expect(replies.find((r) => r.correlationid === 'corr-1')).toBeDefined()
    expect(await count(pool, `select count(*) as n from ${durable.schema}.inbox`)).toBe(3 + 3)
  })

  it('handles a message again once its inbox row expired, and prunes expired rows', async () => {
    const durable = await freshDurable(pool)
    const type = uniq('com.test.expiry')
    const bus = await memoryBus('inbox-expiry')
    bus.use(durable.inbox({ ttlMs: 100 }))
    let calls = 0
    bus.handle(type, async () => void calls++)
    await bus.start()
    await bus.send({ type, id: 'x' })
    await waitFor('first', () => calls === 1)
    await new Promise((r) => setTimeout(r, 150)) // past the 100 ms window
    await bus.send({ type, id: 'x' })
    await waitFor('again after expiry', () => calls === 2)
    await new Promise((r) => setTimeout(r, 150))
    const relay = new Relay(pool, durable.schema, bus)
    expect((await relay.prune()).inbox).toBe(1)
    await bus.stop()
  })

  it('says what to do when a handler asks for a transaction without inbox()', async () => {
    const type = uniq('com.test.notx')
    const bus = await memoryBus('no-inbox', { delivery: { maxAttempts: 1 } })
    let error: unknown
    bus.handle(type, async (_e, ctx) => {
      try {
        transactionOf(ctx)
      } catch (e) {
        error = e
      }
    })
    await bus.start()
    await bus.send({ type })
    await waitFor('the handler', () => error !== undefined)
    await bus.stop()
    expect(String(error)).toMatch(/bus.use\(durable.inbox\(\)\)/)
  })
})

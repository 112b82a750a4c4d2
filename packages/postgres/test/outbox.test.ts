import type { Envelope, EnvelopeInput } from '@omnibus/core'
import { afterAll, describe, expect, it } from 'vitest'
import { Durable, migrate, Relay, SCHEMA_VERSION } from '../src/index.js'
import { cleanUp, count, freshDurable, logger, memoryBus, newPool, uniq, waitFor } from './helpers.js'

const pool = newPool(20)
afterAll(() => cleanUp(pool))

describe('migrations', () => {
  it('apply once, in order, even when several instances start together', async () => {
    const schema = uniq('m')
    const runs = await Promise.all([1, 2, 3].map(() => migrate(pool, schema)))
    expect(runs.flat().sort()).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1))
    expect(await migrate(pool, schema)).toEqual([])
    expect(await count(pool, `select count(*) as n from ${schema}.omnibus_migrations`)).toBe(SCHEMA_VERSION)
    await pool.query(`drop schema ${schema} cascade`)
  })

  it('refuse a schema name that is not a plain identifier', () => {
    expect(() => new Durable({ pool, schema: 'x; drop table y', service: 's' })).toThrow(/config schema/)
  })
})

describe('transactional outbox', () => {
  it('publishes what committed, never what rolled back, with the ids it returned', async () => {
    const durable = await freshDurable(pool)
    const type = uniq('com.test.outbox')
    const bus = await memoryBus('outbox-a')
    const seen: Envelope[] = []
    bus.on(type, async (e) => void seen.push(e))
    const relay = await durable.start(bus, { pollIntervalMs: 60_000 })

    const client = await pool.connect()
    await client.query('begin')
    const [kept] = await durable.outbox.publish(client, { type, data: { n: 1 }, extensions: { tenant: 'a' } })
    await client.query('commit')
    await client.query('begin')
    await durable.outbox.publish(client, { type, data: { n: 2 } })
    await client.query('rollback')
    client.release()

    // The poll is a minute: only NOTIFY can have woken the relay this soon.
    await waitFor(
      'the committed event, marked',
      () => seen.length === 1 && relay.stats.published === 1,
      30_000,
    )
    expect(seen[0]!.id).toBe(kept!.id)
    expect(seen[0]!.data).toEqual({ n: 1 })
    expect(seen[0]!.tenant).toBe('a')
    expect(seen[0]!.source).toBe('urn:omnibus:test')
    await durable.stop()
    expect(seen).toHaveLength(1)
  })

  it('keeps order per partitionkey across four relays, and publishes every row once', async () => {
    const durable = await freshDurable(pool)
    const type = uniq('com.test.order')
    const consumer = await memoryBus('outbox-order')
    const byKey = new Map<string, number[]>()
    consumer.on(type, async (e) => {
      const { key, n } = e.data as { key: string; n: number }
      byKey.set(key, [...(byKey.get(key) ?? []), n])
    })
    await consumer.start()
    const senders = await Promise.all([1, 2, 3, 4].map(() => memoryBus('outbox-order-pub')))
    await Promise.all(senders.map((b) => b.start()))
    const relays = senders.map((b) => durable.relay(b, { batchSize: 7, pollIntervalMs: 60_000 }))
    await Promise.all(relays.map((r) => r.start()))

    const keys = ['k1', 'k2', 'k3', 'k4', 'k5']
    const perKey = 60
    for (let n = 0; n < perKey; n += 10) {
      const client = await pool.connect()
      await client.query('begin')
      const batch: EnvelopeInput[] = []
      for (let i = n; i < n + 10; i++)
        for (const key of keys) batch.push({ type, partitionkey: key, data: { key, n: i } })
      await durable.outbox.publish(client, batch)
      await client.query('commit')
      client.release()
    }
    const total = keys.length * perKey
    await waitFor('every event', () => [...byKey.values()].flat().length >= total, 20_000)
    for (const key of keys) expect(byKey.get(key)).toEqual(Array.from({ length: perKey }, (_, i) => i))
    await waitFor('every row marked', () => relays.reduce((a, r) => a + r.stats.published, 0) >= total)
    expect(relays.reduce((a, r) => a + r.stats.published, 0)).toBe(total)
    await Promise.all(relays.map((r) => r.stop()))
    await Promise.all([consumer, ...senders].map((b) => b.stop()))
  })

  it('retries a failed publish with backoff, and a publish whose marking was lost arrives again with the same id', async () => {
    const durable = await freshDurable(pool)
    const published: string[] = []
    let failures = 2
    const times: number[] = []
    const sender = {
      async publish(inputs: readonly EnvelopeInput[]) {
        times.push(Date.now())
        for (const i of inputs) published.push(i.id!)
        // The broker took it, but the relay never learns: as if it crashed before marking.
        if (failures-- > 0) throw new Error('confirm lost')
      },
      async send() {},
    }
    const relay = new Relay(pool, durable.schema, sender, {
      logger,
      pollIntervalMs: 60_000,
      retry: { initialDelayMs: 200, maxDelayMs: 1000 },
    })
    await relay.start()
    const [e] = await durable.outbox.publish(pool, { type: 'com.test.retry', data: 1 })
    await waitFor('three attempts', () => published.length === 3 && relay.stats.published === 1, 10_000)
    expect(new Set(published)).toEqual(new Set([e!.id]))
    // 200 ms, then 400 ms: the backoff doubles.
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(180)
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(380)
    expect(relay.stats.failedAttempts).toBe(2)
    const row = (await pool.query(`select attempts, last_error from ${durable.schema}.outbox`)).rows[0]
    expect(row).toEqual({ attempts: 3, last_error: 'confirm lost' })
    await relay.stop()
  })

  it('fires scheduled rows when due, and cancels them before', async () => {
    const durable = await freshDurable(pool)
    const seen: { id: string; at: number }[] = []
    const sender = {
      async publish() {},
      async send(inputs: readonly EnvelopeInput[]) {
        for (const i of inputs) seen.push({ id: i.id!, at: Date.now() })
      },
    }
    const relay = new Relay(pool, durable.schema, sender, { logger, pollIntervalMs: 60_000 })
    await relay.start()
    const t0 = Date.now()
    const [due] = await durable.outbox.send(pool, { type: 'com.test.timeout' }, { delayMs: 600 })
    const [cancelled] = await durable.outbox.send(pool, { type: 'com.test.timeout' }, { delayMs: 300 })
    expect(await durable.outbox.cancel(pool, cancelled!.id)).toBe(true)
    await waitFor('the scheduled command', () => seen.length === 1, 30_000)
    expect(seen[0]!.id).toBe(due!.id)
    expect(seen[0]!.at - t0).toBeGreaterThanOrEqual(550)
    expect(await durable.outbox.cancel(pool, due!.id)).toBe(false)
    await relay.stop()
  })

  it('prunes published rows past retention; retention 0 deletes them as published', async () => {
    const durable = await freshDurable(pool)
    const sender = { async publish() {}, async send() {} }
    const keep = new Relay(pool, durable.schema, sender, { retentionMs: 50 })
    await durable.outbox.publish(pool, [{ type: 'com.test.a' }, { type: 'com.test.b' }])
    expect(await keep.runOnce()).toBe(2)
    const outbox = `${durable.schema}.outbox`
    expect(await count(pool, `select count(*) as n from ${outbox} where published_at is not null`)).toBe(2)
    await new Promise((r) => setTimeout(r, 60)) // let the 50 ms retention pass
    expect((await keep.prune()).outbox).toBe(2)
    const drop = new Relay(pool, durable.schema, sender, { retentionMs: 0 })
    await durable.outbox.publish(pool, { type: 'com.test.c' })
    expect(await drop.runOnce()).toBe(1)
    expect(await count(pool, `select count(*) as n from ${outbox}`)).toBe(0)
  })
})

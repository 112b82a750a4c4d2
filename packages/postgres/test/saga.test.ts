import type { Bus, Envelope } from '@omnibus/core'
import { afterAll, describe, expect, it } from 'vitest'
import { defineSaga, MemorySagaStore, runSaga, type SagaStore } from '../src/index.js'
import { cleanUp, count, freshDurable, memoryBus, newPool, uniq, waitFor } from './helpers.js'

const pool = newPool(20)
afterAll(() => cleanUp(pool))

interface TripState {
  pings: number
  asked: number
}

/** A small saga: asks for work, waits for the answer or times out; counts pings. */
function tripSaga(prefix: string) {
  return defineSaga<TripState>({
    name: `trip-${prefix.slice(-6)}`,
    startedBy: [`${prefix}.started`],
    initial: () => ({ pings: 0, asked: 0 }),
    on: {
      [`${prefix}.started`]: async (_m, saga) => {
        saga.state.asked++
        await saga.send({ type: `${prefix}.work`, data: { key: saga.key } })
        await saga.schedule('answer', 1500, { why: 'no answer' })
      },
      [`${prefix}.ping`]: async (_m, saga) => {
        const seen = saga.state.pings
        await new Promise((r) => setTimeout(r, 2)) // a lost update would show here
        saga.state.pings = seen + 1
      },
      [`${prefix}.answered`]: async (_m, saga) => {
        await saga.cancel('answer')
        saga.complete('answered')
      },
    },
    timeouts: {
      answer: async (data: { why: string }, saga) => {
        await saga.publish({ type: `${prefix}.gaveup`, data })
        saga.complete('timedout')
      },
    },
  })
}

const stores: [string, () => Promise<{ store: SagaStore; start: (bus: Bus) => Promise<void> }>][] = [
  [
    'memory',
    async () => ({
      store: new MemorySagaStore(),
      start: (bus) => bus.start(),
    }),
  ],
  [
    'postgres',
    async () => {
      const durable = await freshDurable(pool)
      return { store: durable.sagaStore(), start: async (bus) => void (await durable.start(bus)) }
    },
  ],
]

describe.each(stores)('saga on the %s store', (_name, make) => {
  it('starts, sends, completes on the answer, times out without one, and serialises an instance', async () => {
    const prefix = uniq('com.test.trip').replaceAll('_', '-')
    const saga = tripSaga(prefix)
    const { store, start } = await make()
    const bus = await memoryBus('saga-test')
    runSaga(bus, saga, store)
    const work: Envelope[] = []
    const gaveUp: Envelope[] = []
    bus.handle(`${prefix}.work`, async (m) => void work.push(m))
    bus.on(`${prefix}.gaveup`, async (m) => void gaveUp.push(m), { group: 'observer' })
    await start(bus)

    await bus.publish({ type: `${prefix}.started`, correlationid: 'a' })
    await bus.publish({ type: `${prefix}.started`, correlationid: 'b' })
    await waitFor('two work commands', () => work.length === 2)
    expect(work.map((m) => m.correlationid).sort()).toEqual(['a', 'b'])
    // 'a' answers in time; 'b' never does.
    await bus.publish({ type: `${prefix}.answered`, correlationid: 'a' })
    // 30 pings at once to 'b', one of them twice (same id): 30 counted.
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        bus.publish({ type: `${prefix}.ping`, id: `p-${i}`, correlationid: 'b' }),
      ),
    )
    await bus.publish({ type: `${prefix}.ping`, id: 'p-7', correlationid: 'b' })
    await waitFor('b timed out', async () => (await store.get(saga.name, 'b'))?.status === 'timedout', 10_000)
    await waitFor('the give-up event', () => gaveUp.length === 1)
    expect(gaveUp[0]!.correlationid).toBe('b')
    expect(gaveUp[0]!.data).toEqual({ why: 'no answer' })
    const a = await store.get<TripState>(saga.name, 'a')
    const b = await store.get<TripState>(saga.name, 'b')
    expect(a).toEqual({ state: { pings: 0, asked: 1 }, status: 'answered', timeouts: {} })
    expect(b).toEqual({ state: { pings: 30, asked: 1 }, status: 'timedout', timeouts: {} })
    // A late answer for a finished instance changes nothing. 'a' was started first, so its
    // deadline has passed too: its cancelled timeout never fired.
    const handled = bus.stats().handled
    await bus.publish({ type: `${prefix}.answered`, correlationid: 'b' })
    await waitFor('the late answer handled', () => bus.stats().handled > handled)
    expect(await store.counts(saga.name)).toEqual({ answered: 1, timedout: 1 })
    expect(gaveUp).toHaveLength(1)
    await bus.stop()
    if (store instanceof MemorySagaStore) store.close()
  })
})

describe('saga declarations', () => {
  it('are checked when defined', () => {
    expect(() =>
      defineSaga({ name: 'Bad Name', startedBy: ['x'], initial: () => 0, on: { x: () => {} } }),
    ).toThrow(/name/)
    expect(() => defineSaga({ name: 'ok', startedBy: ['x'], initial: () => 0, on: {} })).toThrow(
      /no handler for x/,
    )
  })

  it('store the state, the outbox messages and the timeout in one transaction (nothing when the handler throws)', async () => {
    const durable = await freshDurable(pool)
    const prefix = uniq('com.test.atomic').replaceAll('_', '-')
    let fail = true
    const saga = defineSaga({
      name: 'atomic',
      startedBy: [`${prefix}.go`],
      initial: () => ({ n: 0 }),
      on: {
        [`${prefix}.go`]: async (_m, s) => {
          await s.send({ type: `${prefix}.cmd` })
          await s.schedule('later', 60_000)
          s.state.n++
          if (fail) {
            fail = false
            throw new Error('boom')
          }
        },
      },
    })
    const bus = await memoryBus('saga-atomic', { delivery: { maxAttempts: 3, initialDelayMs: 10 } })
    runSaga(bus, saga, durable.sagaStore())
    const cmds: Envelope[] = []
    bus.handle(`${prefix}.cmd`, async (m) => void cmds.push(m))
    await durable.start(bus)
    await bus.publish({ type: `${prefix}.go`, correlationid: 'k' })
    await waitFor('the command', () => cmds.length === 1)
    expect(await durable.sagaStore().get('atomic', 'k')).toMatchObject({ state: { n: 1 }, status: 'running' })
    const pending = `select count(*) as n from ${durable.schema}.outbox where published_at is null`
    // Left pending: only the timeout, due in a minute.
    await waitFor('the command marked published', async () => (await count(pool, pending)) === 1)
    await durable.stop()
    expect(cmds).toHaveLength(1)
  })
})

import { afterEach, describe, expect, it, vi } from 'vitest'
import { MemoryIdempotencyStore, registerAdapter } from '../src/adapter/index.js'
import {
  type Bus,
  type BusConfig,
  createBus,
  type Envelope,
  idempotency,
  type Logger,
  MemoryBroker,
  memoryTransport,
  NonRetryableError,
  OmnibusError,
  QueryFailedError,
} from '../src/index.js'
import { waitFor } from './helpers.js'

const buses: Bus[] = []
afterEach(async () => {
  await Promise.all(buses.splice(0).map((b) => b.stop()))
})

async function bus(config: Partial<BusConfig> & { broker?: MemoryBroker } = {}): Promise<Bus> {
  const { broker = new MemoryBroker(), ...rest } = config
  const b = await createBus({ service: 'svc', transports: { m: memoryTransport({ broker }) }, ...rest })
  buses.push(b)
  return b
}

/** A logger that keeps what was logged at warn. */
function recorder(): Logger & { warned: { message: string; fields?: Record<string, unknown> }[] } {
  const warned: { message: string; fields?: Record<string, unknown> }[] = []
  const noop = () => {}
  return {
    warned,
    debug: noop,
    info: noop,
    error: noop,
    warn: (message, fields) => void warned.push({ message, fields }),
  }
}

describe('answers that cannot be sent', () => {
  it.each([
    ['a BigInt', () => 10n, /bigint/i],
    ['2 MB', () => ({ blob: 'x'.repeat(2 * 1024 * 1024) }), /over the transport's limit/],
  ])('%s reaches the asker once as QueryFailedError; the handler runs once', async (_, answer, reason) => {
    const b = await bus({ delivery: { queryTimeoutMs: 3000 } })
    let runs = 0
    b.answer('q', async () => {
      runs++
      return answer()
    })
    await b.start()
    const error = await b.query({ type: 'q' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(QueryFailedError)
    expect((error as Error).message).toMatch(reason)
    await new Promise((resolve) => setTimeout(resolve, 50)) // room for a loop to show itself
    expect(runs).toBe(1)
  })
})

describe('idempotency', () => {
  it('answers a repeated query (same id) every time, and counts duplicate events as skipped', async () => {
    const b = await bus()
    b.use(idempotency())
    let handled = 0
    b.answer('q', async () => ({ ok: true }))
    b.on('e', async () => void handled++)
    await b.start()
    expect(await b.query({ type: 'q', id: 'same' })).toEqual({ ok: true })
    expect(await b.query({ type: 'q', id: 'same' })).toEqual({ ok: true })
    await b.publish([
      { type: 'e', id: 'dup' },
      { type: 'e', id: 'dup' },
    ])
    await waitFor('one handled, one skipped', () => b.stats().skipped === 1 && handled === 1)
    expect(b.stats()).toMatchObject({ handled: 3, skipped: 1 })
  })

  it('evicts with one Map iterator, not a fresh one per eviction (400k claims over 100k keys)', async () => {
    const store = new MemoryIdempotencyStore(100_000)
    const keys = vi.spyOn(Map.prototype, 'keys')
    try {
      for (let i = 0; i < 400_000; i++) await store.claim(`k${i}`, 60_000)
      // A fresh iterator per eviction walks every slot deleted before it: quadratic.
      expect(keys.mock.calls.length).toBeLessThan(10)
    } finally {
      keys.mockRestore()
    }
    expect(store.size).toBe(100_000)
    expect(await store.claim('k399999', 60_000)).toBe(false) // newest kept
    expect(await store.claim('k0', 60_000)).toBe(true) // oldest dropped
  })

  it('rejects a ttlMs or maxKeys it cannot use, naming it', () => {
    expect(() => idempotency({ ttlMs: 3e9 })).toThrow(expect.objectContaining({ argument: 'options.ttlMs' }))
    expect(() => idempotency({ ttlMs: Number.NaN })).toThrow(
      expect.objectContaining({ argument: 'options.ttlMs' }),
    )
    expect(() => new MemoryIdempotencyStore(0)).toThrow(expect.objectContaining({ argument: 'maxKeys' }))
  })
})

describe('handler outcomes', () => {
  it('a NonRetryableError dead-letters at once with its reason; a thrown object gives a readable reason', async () => {
    const broker = new MemoryBroker()
    const logger = recorder()
    const b = await bus({ broker, logger, delivery: { maxAttempts: 5, initialDelayMs: 1 } })
    const attempts: Record<string, number> = {}
    b.on('bad', async (e) => {
      attempts[e.id] = (attempts[e.id] ?? 0) + 1
      throw new NonRetryableError('order o-1 has no lines')
    })
    b.on('odd', async () => {
      throw { code: 42, why: 'plain object' }
    })
    const letters: Envelope[] = []
    b.onDeadLetter('bad', async (l) => void letters.push(l))
    b.onDeadLetter('odd', async (l) => void letters.push(l))
    await b.start()
    await b.publish([
      { type: 'bad', id: 'b1' },
      { type: 'odd', id: 'o1' },
    ])
    await waitFor('two dead letters', () => letters.length === 2)
    const by = Object.fromEntries(letters.map((l) => [l.id, l]))
    expect(attempts.b1).toBe(1)
    expect(by.b1).toMatchObject({ dlreason: 'order o-1 has no lines', dlattempts: 1 })
    expect(by.o1!.dlreason).toBe('{"code":42,"why":"plain object"}')
    const said = logger.warned.filter((w) => w.message === 'message dead-lettered').map((w) => w.fields)
    expect(said).toContainEqual(
      expect.objectContaining({ channel: 'bad', group: 'svc', id: 'b1', reason: 'order o-1 has no lines' }),
    )
  })

  it('timeoutMs aborts the handler signal and counts as a failed attempt', async () => {
    const b = await bus({ delivery: { maxAttempts: 2, initialDelayMs: 1 } })
    const aborted: boolean[] = []
    b.on(
      'slow',
      (_e, ctx) =>
        new Promise<void>((resolve) => {
          ctx.signal.addEventListener('abort', () => {
            aborted.push(true)
            resolve() // too late: the attempt already failed
          })
        }),
      { timeoutMs: 30 },
    )
    const letters: Envelope[] = []
    b.onDeadLetter('slow', async (l) => void letters.push(l))
    await b.start()
    await b.publish({ type: 'slow' })
    await waitFor('the dead letter', () => letters.length === 1)
    expect(aborted).toEqual([true, true])
    expect(letters[0]).toMatchObject({ dlattempts: 2 })
    expect(String(letters[0]!.dlreason)).toMatch(/timeoutMs of 30 ms/)
  })
})

describe('deliveries given back unhandled are not failed attempts (issue 13)', () => {
  it('a message released by several stops is handled, not dead-lettered', async () => {
    const broker = new MemoryBroker()
    for (let round = 0; round < 5; round++) {
      const b = await bus({ broker, delivery: { maxAttempts: 3, stopTimeoutMs: 20 } })
      let started = false
      b.on('t', () => {
        started = true
        return new Promise<void>(() => {}) // still running at every stop
      })
      await b.start()
      if (round === 0) await b.publish({ type: 't', id: 'kept' })
      await waitFor(`delivery ${round + 1}`, () => started)
      await b.stop()
    }
    const handled: number[] = []
    const last = await bus({ broker, delivery: { maxAttempts: 3 } })
    last.on('t', async (_e, ctx) => void handled.push(ctx.deliveryCount))
    await last.start()
    await waitFor('the sixth delivery', () => handled.length === 1)
    expect(handled).toEqual([6])
    expect(last.stats().deadLettered).toBe(0)
  })
})

describe('onDeadLetter(channel)', () => {
  it('reads the dead letters from the transport that holds the channel, for any kind', async () => {
    const events = new MemoryBroker()
    const commands = new MemoryBroker()
    const b = await createBus({
      service: 'svc',
      transports: {
        events: memoryTransport({ broker: events }),
        commands: memoryTransport({ broker: commands }),
      },
      routes: [{ kind: 'command', transport: 'commands' }],
      defaultTransport: 'events',
      delivery: { maxAttempts: 1 },
    })
    buses.push(b)
    b.handle('com.acme.stock.reserve', async () => {
      throw new Error('no stock')
    })
    const letters: Envelope[] = []
    b.onDeadLetter('com.acme.stock.reserve', async (l) => void letters.push(l))
    await b.start()
    await b.send({ type: 'com.acme.stock.reserve' })
    await waitFor('the command dead letter', () => letters.length === 1)
    expect(letters[0]!.dlreason).toBe('no stock')
  })
})

describe('a query whose publish never confirms', () => {
  it('still rejects at its timeout', async () => {
    const hanging = memoryTransport({ broker: new MemoryBroker() })
    hanging.publish = () => new Promise(() => {})
    const b = await createBus({ service: 'svc', transports: { m: hanging } })
    buses.push(b)
    await b.start()
    const began = Date.now()
    const error = await b.query({ type: 'q' }, { timeoutMs: 200 }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'QUERY_TIMEOUT' })
    expect(Date.now() - began).toBeLessThan(10_000) // not a hang; room for a loaded machine
  })
})

describe('bad arguments to the bus', () => {
  it.each([
    ['publish(null)', (b: Bus) => b.publish(null as never), 'input'],
    ["publish('x')", (b: Bus) => b.publish('x' as never), 'input'],
    ['publish([{}, 3])', (b: Bus) => b.publish([{ type: 't' }, 3] as never), 'input[1]'],
    ['send(undefined)', (b: Bus) => b.send(undefined as never), 'input'],
    ['query(7)', (b: Bus) => b.query(7 as never), 'input'],
  ])('%s rejects with an EnvelopeError naming %s', async (_, call, field) => {
    const b = await bus()
    await b.start()
    const error = await call(b).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'ENVELOPE_INVALID', field })
  })

  it.each([
    ['query NaN timeout', (b: Bus) => b.query({ type: 'q' }, { timeoutMs: Number.NaN }), 'options.timeoutMs'],
    ['query 3e9 timeout', (b: Bus) => b.query({ type: 'q' }, { timeoutMs: 3e9 }), 'options.timeoutMs'],
  ])('%s rejects with an ArgumentError naming %s', async (_, call, argument) => {
    const b = await bus()
    await b.start()
    const error = await call(b).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OmnibusError)
    expect(error).toMatchObject({ code: 'ARGUMENT_INVALID', argument })
  })

  it.each([
    ['on(3)', (b: Bus) => b.on(3 as never, async () => {}), 'type'],
    ["on('t', 'h')", (b: Bus) => b.on('t', 'h' as never), 'handler'],
    ['on maxInFlight 0', (b: Bus) => b.on('t', async () => {}, { maxInFlight: 0 }), 'options.maxInFlight'],
    ['on from', (b: Bus) => b.on('t', async () => {}, { from: 'start' as never }), 'options.from'],
    ['handle timeoutMs', (b: Bus) => b.handle('t', async () => {}, { timeoutMs: -1 }), 'options.timeoutMs'],
    ['answer options', (b: Bus) => b.answer('t', async () => {}, 5 as never), 'options'],
    ['onDeadLetter()', (b: Bus) => b.onDeadLetter(undefined as never, async () => {}), 'channel'],
    [
      'onDeadLetter transport',
      (b: Bus) => b.onDeadLetter('c', async () => {}, { transport: 'x' }),
      'options.transport',
    ],
    ['use(null)', (b: Bus) => b.use(null as never), 'middleware'],
    ['registerAdapter(null)', () => registerAdapter(null as never), 'adapter'],
  ])('%s throws an ArgumentError naming %s', async (_, call, argument) => {
    const b = await bus()
    expect(() => call(b)).toThrow(expect.objectContaining({ code: 'ARGUMENT_INVALID', argument }))
  })
})

import { describe, expect, it } from 'vitest'
import {
  adapterError,
  adapterLogger,
  Backoff,
  BatchFailure,
  brokerName,
  describeError,
  InFlight,
  KeyedSerial,
  OmnibusError,
  PromiseCache,
  PublishQueues,
  pause,
  retrying,
  withDeadline,
} from '../src/adapter/index.js'

const tick = () => new Promise((resolve) => setImmediate(resolve))

describe('adapter toolkit', () => {
  it('InFlight: idle() waits until every entered delivery has left', async () => {
    const inFlight = new InFlight()
    await inFlight.idle()
    inFlight.enter()
    inFlight.enter()
    let idle = false
    const waiting = inFlight.idle().then(() => {
      idle = true
    })
    inFlight.leave()
    await tick()
    expect(idle).toBe(false)
    inFlight.leave()
    await waiting
    expect(inFlight.size).toBe(0)
  })

  it('PromiseCache: shares a result, forgets failures and refused values, and forgets on demand', async () => {
    let calls = 0
    const cache = new PromiseCache<string | undefined>((v) => v !== undefined)
    const make =
      (value: string | undefined, fail = false) =>
      async () => {
        calls++
        if (fail) throw new Error('broker said no')
        return value
      }
    const [a, b] = await Promise.all([cache.get('k', make('one')), cache.get('k', make('two'))])
    expect([a, b, calls]).toEqual(['one', 'one', 1])
    await expect(cache.get('f', make('x', true))).rejects.toThrow('broker said no')
    await tick()
    expect(await cache.get('f', make('y'))).toBe('y')
    expect(await cache.get('u', make(undefined))).toBeUndefined()
    await tick()
    expect(cache.peek('u')).toBeUndefined()
    cache.forget('k')
    expect(await cache.get('k', make('three'))).toBe('three')
  })

  it('KeyedSerial: one task per key at a time, in call order; a failure does not stop the next', async () => {
    const serial = new KeyedSerial()
    const log: string[] = []
    const task =
      (name: string, fail = false) =>
      async () => {
        log.push(`start ${name}`)
        await tick()
        log.push(`end ${name}`)
        if (fail) throw new Error(name)
        return name
      }
    const results = await Promise.allSettled([
      serial.run('a', task('a1', true)),
      serial.run('a', task('a2')),
      serial.run('b', task('b1')),
    ])
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled'])
    expect(log.indexOf('end a1')).toBeLessThan(log.indexOf('start a2'))
    expect(log.indexOf('start b1')).toBeLessThan(log.indexOf('end a1'))
  })

  it('Backoff doubles within bounds; retrying keeps trying until success, abort or a failure retryIf refuses', async () => {
    const backoff = new Backoff(10, 35)
    expect([backoff.next(), backoff.next(), backoff.next(), backoff.next()]).toEqual([10, 20, 35, 35])
    backoff.reset()
    expect(backoff.next()).toBe(10)
    let n = 0
    const delays: number[] = []
    const result = await retrying(
      async () => {
        if (++n < 3) throw new Error('not yet')
        return 'up'
      },
      { minMs: 1, maxMs: 2, onError: (_e, ms) => delays.push(ms) },
    )
    expect([result, delays]).toEqual(['up', [1, 2]])
    const stop = new AbortController()
    setTimeout(() => stop.abort(), 30)
    const never = await retrying(
      async () => {
        throw new Error('down')
      },
      { minMs: 5, maxMs: 5, signal: stop.signal },
    )
    expect(never).toBeUndefined()
    let tries = 0
    const refuse = (_e: unknown, attempt: number) => attempt < 2
    const given = retrying(
      async () => {
        throw new Error(`try ${++tries}`)
      },
      { minMs: 1, maxMs: 1, retryIf: refuse },
    )
    await expect(given).rejects.toThrow('try 2')
  })

  it('pause resolves early when its signal aborts', async () => {
    const stop = new AbortController()
    const started = Date.now()
    setTimeout(() => stop.abort(), 10)
    await pause(10_000, stop.signal)
    expect(Date.now() - started).toBeLessThan(5000)
  })

  it('brokerName keeps names that fit and hashes the others, deterministically and apart', () => {
    const rule = { invalid: /[^a-z0-9_-]/g, maxLength: 20 }
    expect(brokerName('orders', rule)).toBe('orders')
    const dotted = brokerName('a.b', rule)
    expect(dotted).toMatch(/^a_b-[0-9a-f]{8}$/)
    expect(brokerName('a_b', rule)).toBe('a_b')
    expect(brokerName('a.b', rule)).toBe(dotted)
    const long = brokerName('x'.repeat(50), rule)
    expect(long.length).toBe(20)
    expect(brokerName('x'.repeat(51), rule)).not.toBe(long)
    expect(brokerName('ok', rule, { changed: true })).toMatch(/^ok-[0-9a-f]{8}$/)
  })

  it('adapterError and adapterLogger carry the adapter prefix; describeError adds the inner cause', () => {
    const socket = new Error('connect ECONNREFUSED 127.0.0.1:9')
    const wrapped = new Error('request failed', { cause: socket })
    expect(describeError(wrapped)).toBe('request failed (connect ECONNREFUSED 127.0.0.1:9)')
    const error = adapterError('foo', 'TRANSPORT_UNAVAILABLE', 'cannot reach foo; is it up?', wrapped)
    expect(error).toBeInstanceOf(OmnibusError)
    expect(error.code).toBe('TRANSPORT_UNAVAILABLE')
    expect(error.message).toMatch(/^\[omnibus\] \[foo\] cannot reach foo; is it up\? \(request failed/)
    expect(error.cause).toBe(wrapped)
    const lines: string[] = []
    const log = (message: string) => void lines.push(message)
    adapterLogger({ debug: log, info: log, warn: log, error: log }, 'foo').warn('queue vanished')
    expect(lines).toEqual(['[foo] queue vanished'])
  })

  it('PublishQueues batch what queues up behind a batch in flight, in order, each call settling with its own items', async () => {
    const sent: string[][] = []
    const queues = new PublishQueues<string>({
      maxItems: 3,
      maxBytes: 10,
      sizeOf: (item) => item.length,
      send: async (_destination, items) => {
        sent.push(items)
        await tick()
        const failed = new Map<number, unknown>()
        for (const [i, item] of items.entries())
          if (item.startsWith('bad')) failed.set(i, new Error(`${item} refused`))
        return failed
      },
    })
    const first = queues.push('d', ['a', 'b'])
    const second = queues.push('d', ['c', 'd', 'e', 'f'])
    const big = queues.push('d', ['123456', '7890123'])
    await Promise.all([first, second, big])
    expect(sent).toEqual([['a', 'b', 'c'], ['d', 'e', 'f'], ['123456'], ['7890123']])
    const failing = queues.push('d', ['ok', 'bad1', 'ok2'])
    const error = await failing.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(BatchFailure)
    expect((error as BatchFailure).failures.map((f) => f.index)).toEqual([1])
    const thrown = new PublishQueues<string>({
      maxItems: 10,
      eager: true,
      send: async () => {
        throw new Error('down')
      },
    })
    const all = (await thrown.push('x', ['1', '2']).catch((e: unknown) => e)) as BatchFailure
    expect(all.failures.map((f) => f.index)).toEqual([0, 1])
  })

  it('PublishQueues.idle() waits for every call pushed so far, also those pushed while it waits', async () => {
    const answers: (() => void)[] = []
    const queues = new PublishQueues<number>({
      maxItems: 1,
      send: () => new Promise<undefined>((resolve) => answers.push(() => resolve(undefined))),
    })
    await queues.idle()
    void queues.push('a', [1])
    let idle = false
    const waiting = queues.idle().then(() => {
      idle = true
    })
    void queues.push('b', [2])
    await tick()
    answers.shift()!()
    await tick()
    expect(idle).toBe(false)
    answers.shift()!()
    await waiting
    expect(answers).toEqual([])
  })

  it('PublishQueues: a sizeOf that throws fails that push alone, and idle() does not wait for it', async () => {
    const queues = new PublishQueues<number>({
      maxItems: 10,
      maxBytes: 100,
      sizeOf: (n) => {
        if (n < 0) throw new Error('unsizable')
        return n
      },
      send: async () => undefined,
    })
    expect(() => queues.push('a', [1, -1])).toThrow('unsizable')
    await queues.push('a', [2])
    await queues.idle()
  })

  it('withDeadline: a confirm in time passes through; none in time is PUBLISH_FAILED, once', async () => {
    expect(await withDeadline(Promise.resolve(7), 1_000, () => 'x')).toBe(7)
    let freed = 0
    let late: (v: number) => void = () => {}
    const stuck = new Promise<number>((resolve) => {
      late = resolve
    })
    const error = await withDeadline(
      stuck,
      20,
      () => '[kafka] publish to orders',
      () => {
        freed++
      },
    ).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(OmnibusError)
    expect((error as OmnibusError).code).toBe('PUBLISH_FAILED')
    expect((error as Error).message).toMatch(/publish to orders.*publishTimeoutMs \(20 ms\)/)
    late(1)
    expect(freed).toBe(1)
    const failed = withDeadline(Promise.reject(new Error('refused')), 1_000, () => 'x')
    await expect(failed).rejects.toThrow('refused')
    // Work given as a function learns of the deadline through its signal.
    let seen: AbortSignal | undefined
    const hang = (signal: AbortSignal) => {
      seen = signal
      return new Promise<never>(() => {})
    }
    const waiting = withDeadline(hang, 20, () => 'x')
    await expect(waiting).rejects.toMatchObject({ code: 'PUBLISH_FAILED' })
    expect(seen?.aborted).toBe(true)
  })
})

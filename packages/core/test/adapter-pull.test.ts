import { describe, expect, it } from 'vitest'
import { type PullLoopOptions, PullLoops } from '../src/adapter/index.js'

/** Polls `check` until it holds, failing after `ms`. */
async function waitFor(check: () => boolean, ms = 10_000): Promise<void> {
  const until = Date.now() + ms
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** A broker queue of numbered messages, receives answered at once; what it was told is recorded. */
function broker(count: number) {
  const queue = Array.from({ length: count }, (_, i) => i)
  const settled: [number, boolean][] = []
  const asked: number[] = []
  return {
    queue,
    settled,
    asked,
    receive: async (room: number) => {
      asked.push(room)
      await new Promise((resolve) => setImmediate(resolve))
      return queue.splice(0, room)
    },
    settle: (message: number, ok: boolean) => {
      settled.push([message, ok])
    },
  }
}

const base = { maxBatch: 10, loops: 3, backoff: { minMs: 5, maxMs: 20 }, onError: () => {} }

describe('PullLoops', () => {
  it('hands out at most maxInFlight, in order, and settles with the outcome', async () => {
    const b = broker(40)
    const open = new Map<number, () => void>()
    const loops = new PullLoops<number>({
      ...base,
      ...b,
      maxInFlight: 7,
      handle: (message) =>
        new Promise<void>((resolve, reject) => {
          open.set(message, () => (message % 5 === 0 ? reject(new Error('no')) : resolve()))
        }),
    })
    loops.start()
    await waitFor(() => open.size === 7)
    expect(loops.size).toBe(7)
    expect([...open.keys()]).toEqual([0, 1, 2, 3, 4, 5, 6])
    // Room was never over-asked: what receives asked for, together, fit under maxInFlight.
    expect(b.asked.reduce((a, n) => a + n, 0)).toBe(7)
    let handled = 0
    while (handled < 40) {
      await waitFor(() => open.size > 0)
      expect(loops.size).toBeLessThanOrEqual(7)
      for (const [message, done] of open) {
        open.delete(message)
        done()
        handled++
      }
    }
    await waitFor(() => b.settled.length === 40)
    await loops.stop()
    for (const [message, ok] of b.settled) expect(ok).toBe(message % 5 !== 0)
  })

  it('a failed receive is reported and tried again; the next answer is reported too', async () => {
    const b = broker(3)
    const events: string[] = []
    let failures = 2
    const handled: number[] = []
    const loops = new PullLoops<number>({
      ...base,
      ...b,
      loops: 1,
      maxInFlight: 10,
      receive: (room) => (failures-- > 0 ? Promise.reject(new Error('down')) : b.receive(room)),
      onError: (error) => events.push(`error ${(error as Error).message}`),
      onReceived: () => events.push('received'),
      handle: (message) => {
        handled.push(message)
      },
    })
    loops.start()
    await waitFor(() => handled.length === 3)
    await loops.stop()
    expect(events.slice(0, 3)).toEqual(['error down', 'error down', 'received'])
    expect(b.settled).toEqual([
      [0, true],
      [1, true],
      [2, true],
    ])
  })

  it('stop() gives back what arrived or was rejected while stopping, only after every receive returned', async () => {
    const settled: [number, boolean][] = []
    let answer: ((messages: number[]) => void) | undefined
    let reject: (() => void) | undefined
    let first = true
    const loops = new PullLoops<number>({
      ...base,
      loops: 1,
      maxInFlight: 10,
      // The first receive hands out message 1; the second stays open until the test answers it.
      receive: () => {
        if (first) {
          first = false
          return Promise.resolve([1])
        }
        return new Promise((resolve) => {
          answer = resolve
        })
      },
      handle: () =>
        new Promise<void>((_, no) => {
          reject = () => no(new Error('rejected while stopping'))
        }),
      settle: (message, ok) => {
        settled.push([message, ok])
      },
    })
    loops.start()
    await waitFor(() => reject !== undefined && answer !== undefined)
    let stopped = false
    const stopping = loops.stop().then(() => {
      stopped = true
    })
    reject!()
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve))
    // Message 1 was rejected, but the open receive could take it straight back: not given back yet.
    expect(settled).toEqual([])
    expect(stopped).toBe(false)
    answer!([2, 3])
    await stopping
    expect(settled).toEqual([
      [1, false],
      [2, false],
      [3, false],
    ])
  })

  it('renews the lease of messages held longer than everyMs, not of settled ones', async () => {
    const b = broker(2)
    const renewed: number[] = []
    let finish: (() => void) | undefined
    const loops = new PullLoops<number>({
      ...base,
      ...b,
      loops: 1,
      maxInFlight: 10,
      // Message 0 settles at once; message 1 is held until the test lets it go.
      handle: (message) =>
        message === 0
          ? undefined
          : new Promise<void>((resolve) => {
              finish = resolve
            }),
      lease: { everyMs: 10, renew: (message) => renewed.push(message) },
    })
    loops.start()
    await waitFor(() => renewed.length >= 2)
    expect(new Set(renewed)).toEqual(new Set([1]))
    finish!()
    await loops.stop()
    const count = renewed.length
    // Four lease periods: a timer left running would have renewed again.
    await new Promise((resolve) => setTimeout(resolve, 40))
    expect(renewed.length).toBe(count)
  })

  it('pauses after empty receives when idle is set, doubling up to its maximum', async () => {
    const run = async (idle: PullLoopOptions<number>['idle']) => {
      const b = broker(0)
      const loops = new PullLoops<number>({
        ...base,
        ...b,
        loops: 1,
        maxInFlight: 10,
        idle,
        handle: () => {},
      })
      loops.start()
      await new Promise((resolve) => setTimeout(resolve, 200))
      await loops.stop()
      return b.asked.length
    }
    const paced = await run({ minMs: 20, maxMs: 40 })
    // 200 ms at 20, 40, 40, … ms apart: at most about six receives.
    expect(paced).toBeLessThanOrEqual(8)
    expect(await run(undefined)).toBeGreaterThan(paced * 3)
  })
})

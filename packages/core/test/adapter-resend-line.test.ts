import { describe, expect, it } from 'vitest'
import { ResendLine } from '../src/adapter/index.js'
import type { Logger } from '../src/index.js'

function recording() {
  const lines: string[] = []
  const at = (level: string) => (message: string) => void lines.push(`${level} ${message}`)
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
  return { lines, logger }
}

/** A broker answering each send a turn of the event loop later, refusing the sends `refuse` picks (1 the first sent). */
function broker(line: ResendLine<number>, refuse: (n: number) => boolean) {
  const taken: number[] = []
  const sizes: number[] = [] // the items of each send, in the order they went out
  let inFlight = 0
  let most = 0 // items in flight at once, from the first refusal answered until the first item taken
  let mostAfter = 0 // items in flight at once after the first item was taken
  let answered = false
  // As the publisher does, a send that gave up (`signal` aborted) reports no refusal when answered.
  const attemptFor = (signal?: AbortSignal) => async (items: readonly number[], written: () => void) => {
    const n = sizes.push(items.length)
    inFlight += items.length
    written()
    if (answered && taken.length === 0) most = Math.max(most, inFlight)
    if (taken.length > 0) mostAfter = Math.max(mostAfter, inFlight)
    await tick()
    inFlight -= items.length
    if (!refuse(n)) {
      taken.push(...items)
      return []
    }
    answered = true
    if (signal?.aborted) return []
    line.failed('c', 'nack')
    return items
  }
  return { attempt: attemptFor(), attemptFor, taken, sizes, most: () => most, mostAfter: () => mostAfter }
}

const tick = () => new Promise((resolve) => setImmediate(resolve))

const options = (logger: Logger) => ({
  minMs: 1,
  maxMs: 4,
  logger,
  say: { failing: 'refused; resending', back: 'taken again' },
})

describe('adapter toolkit: ResendLine', () => {
  it('resends in call order, one probe at a time while the key fails, and logs the outage once', async () => {
    const { lines, logger } = recording()
    const line = new ResendLine<number>(options(logger))
    const b = broker(line, (n) => n <= 8)
    const signal = new AbortController().signal
    // Three sends in flight together, all refused; two more once the key fails.
    const first = [[0, 1, 2], [3], [4, 5]].map((items) => line.send('c', items, b.attempt, signal))
    while (b.sizes.length < 4) await tick()
    const later = [[6], [7, 8]].map((items) => line.send('c', items, b.attempt, signal))
    // Another key is not held by c's line.
    const d = broker(line, () => false)
    await line.send('d', [100], d.attempt, signal)
    expect([d.taken, b.taken]).toEqual([[100], []])
    await Promise.all([...first, ...later])
    expect(b.taken).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8])
    // After the three sends that went out together, one item at a time until one was taken.
    expect(b.sizes.slice(3, 9)).toEqual([1, 1, 1, 1, 1, 1])
    expect(b.sizes.slice(9)).toEqual([2, 1, 2, 1, 2])
    expect(b.most()).toBe(1)
    // Once taken again, the line drains at the connection's pace: the sends behind the probe go
    // out without waiting for each other's answers (one round trip per send would never catch up
    // with a busy channel).
    expect(b.mostAfter()).toBe(8)
    expect(lines).toEqual(['warn refused; resending', 'info taken again'])
  })

  it('a send refused again once the key is taken again goes back into the line in call order', async () => {
    const { logger } = recording()
    const line = new ResendLine<number>(options(logger))
    // 1-2: both sends refused; 3: the probe taken; 4: the rest of the first send refused again.
    const b = broker(line, (n) => n <= 2 || n === 4)
    const signal = new AbortController().signal
    await Promise.all([line.send('c', [0, 1, 2], b.attempt, signal), line.send('c', [3], b.attempt, signal)])
    // [3] was in flight with [1, 2] when they were refused again, so it may be taken before them
    // (the documented exception); 1 still precedes 2, each once.
    expect(b.taken).toEqual([0, 3, 1, 2])
    expect(b.sizes).toEqual([3, 1, 1, 2, 1, 1, 1])
  })

  it('a key leaves with its last send, also when that send gave up while the key failed', async () => {
    const { lines, logger } = recording()
    const line = new ResendLine<number>(options(logger))
    const b = broker(line, (n) => n <= 2)
    const soon = new AbortController()
    const stuck = line.send('c', [0], b.attemptFor(soon.signal), soon.signal)
    while (b.sizes.length < 2) await tick()
    soon.abort()
    await stuck
    // Nothing of c is kept: the next send goes out whole at once, not as a probe of one item.
    await line.send('c', [1, 2], b.attempt, new AbortController().signal)
    expect(b.sizes.at(-1)).toBe(2)
    expect(b.taken).toEqual([1, 2])
    expect(lines).toEqual(['warn refused; resending'])
  })

  it('a send whose signal aborts leaves the line, and the next one probes in its place', async () => {
    const { logger } = recording()
    const line = new ResendLine<number>(options(logger))
    const b = broker(line, (n) => n <= 30)
    const soon = new AbortController()
    const stuck = line.send('c', [0], b.attempt, soon.signal)
    const next = line.send('c', [1], b.attempt, new AbortController().signal)
    while (b.sizes.length < 5) await tick()
    soon.abort()
    await stuck
    await next
    expect(b.taken).toEqual([1])
  })

  it('a refusal no resend can change rejects its send, in line or not', async () => {
    const { logger } = recording()
    const line = new ResendLine<number>(options(logger))
    const signal = new AbortController().signal
    const tooLarge = () => Promise.reject(new Error('too large'))
    await expect(line.send('c', [0], tooLarge, signal)).rejects.toThrow('too large')
    // In line: behind a send refused once and probing, one that fails for good.
    const b = broker(line, (n) => n === 1)
    const first = line.send('c', [1], b.attempt, signal)
    while (b.sizes.length < 2) await tick()
    const inLine = line.send('c', [2], tooLarge, signal)
    await expect(inLine).rejects.toThrow('too large')
    await first
    expect(b.taken).toEqual([1])
  })
})

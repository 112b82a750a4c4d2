import { describe, expect, it } from 'vitest'
import { resend } from '../src/adapter/index.js'

const backoff = { minMs: 1, maxMs: 4 }
const transient = new Error('throttled')

describe('adapter toolkit: resend', () => {
  it('sends again only what failed for a reason that may pass, until all is confirmed', async () => {
    const attempts: string[][] = []
    const failures = await resend(['a', 'b', 'c'], {
      send: async (items) => {
        attempts.push(items)
        // First attempt: b refused (may pass); second: all confirmed.
        return attempts.length === 1 ? new Map([[1, transient]]) : undefined
      },
      verdict: () => undefined,
      backoff,
      signal: new AbortController().signal,
    })
    expect(attempts).toEqual([['a', 'b', 'c'], ['b']])
    expect(failures.size).toBe(0)
  })

  it('fails an item for good with its verdict while the others are sent again', async () => {
    const refused = new Error('sender fault')
    const final = new Error('final')
    const attempts: string[][] = []
    const failures = await resend(['a', 'b', 'c'], {
      send: async (items) => {
        attempts.push(items)
        if (attempts.length > 1) return undefined
        return new Map<number, unknown>([
          [0, refused],
          [2, transient],
        ])
      },
      verdict: (error) => (error === refused ? final : undefined),
      backoff,
      signal: new AbortController().signal,
    })
    expect(attempts).toEqual([['a', 'b', 'c'], ['c']])
    expect([...failures]).toEqual([[0, final]])
  })

  it('a whole attempt that throws fails every item; the verdict is asked once per error', async () => {
    const down = new Error('unreachable')
    const gone = new Error('not found')
    let verdicts = 0
    let calls = 0
    const failures = await resend([1, 2], {
      send: async () => {
        calls++
        throw calls === 1 ? down : gone
      },
      verdict: (error) => {
        verdicts++
        return error === gone ? new Error('CHANNEL_NOT_FOUND') : undefined
      },
      backoff,
      signal: new AbortController().signal,
    })
    expect(calls).toBe(2)
    expect(verdicts).toBe(2)
    expect([...failures.keys()]).toEqual([0, 1])
    expect((failures.get(0) as Error).message).toBe('CHANNEL_NOT_FOUND')
  })

  it('stops at the deadline: what is unsent fails with the last failure seen', async () => {
    const deadline = new AbortController()
    let calls = 0
    const failures = await resend(['a', 'b'], {
      send: async () => {
        if (++calls === 3) deadline.abort()
        throw transient
      },
      verdict: () => undefined,
      backoff: { minMs: 1, maxMs: 1 },
      signal: deadline.signal,
    })
    expect(calls).toBe(3)
    expect([...failures]).toEqual([
      [0, transient],
      [1, transient],
    ])
  })

  it('pauses longer each time an attempt is answered but every item refused', async () => {
    const deadline = new AbortController()
    const at: number[] = []
    await resend(['a', 'b'], {
      send: async (items) => {
        at.push(performance.now())
        if (at.length === 4) deadline.abort()
        return new Map(items.map((_, i) => [i, transient])) // answered, every item refused
      },
      verdict: () => undefined,
      backoff: { minMs: 50, maxMs: 1000 },
      signal: deadline.signal,
    })
    // 50, 100, 200 ms (a timer is never early); answered attempts used to restart at 50 every time.
    const pauses = at.slice(1).map((t, i) => t - at[i]!)
    expect(pauses[2]).toBeGreaterThanOrEqual(195)
  })

  it('with the deadline already passed, sends nothing and fails every item', async () => {
    const deadline = new AbortController()
    deadline.abort()
    let calls = 0
    const failures = await resend(['a'], {
      send: async () => {
        calls++
        return undefined
      },
      verdict: () => undefined,
      backoff,
      signal: deadline.signal,
    })
    expect(calls).toBe(0)
    expect((failures.get(0) as Error).message).toMatch(/deadline/)
  })
})

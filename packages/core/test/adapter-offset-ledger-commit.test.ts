import { describe, expect, it } from 'vitest'
import { logBacklog, OffsetLedger } from '../src/adapter/index.js'

const live = () => true
const recs = (...offsets: number[]) => offsets.map((offset) => ({ offset }))

/** A ledger whose handler acknowledges at once. */
const ledger = () =>
  new OffsetLedger<{ offset: number }>({ maxInFlight: 10, redeliveryDelayMs: 5, deliver: async () => {} })
const settled = () => new Promise((resolve) => setImmediate(resolve))

describe('adapter toolkit: OffsetLedger.commit', () => {
  it('writes the positions that moved, one commit at a time, and marks them committed once written', async () => {
    const l = ledger()
    await l.take(0, recs(0, 1, 2), live)
    await settled()
    const written: Map<number, number>[] = []
    let release: () => void = () => {}
    let active = 0
    let most = 0
    const write = async (positions: Map<number, number>) => {
      active++
      most = Math.max(most, active)
      written.push(new Map(positions))
      await new Promise<void>((resolve) => {
        release = resolve
      })
      active--
    }
    const first = l.commit(write, () => {})
    const second = l.commit(write, () => {})
    await settled()
    release()
    await first
    await settled()
    release()
    await second
    // The second found nothing moved after the first: one write, never two at once.
    expect(written).toEqual([new Map([[0, 3]])])
    expect(most).toBe(1)
    expect(l.positions().size).toBe(0)
  })

  it('keeps the positions of a failed write (told to onFailure) for the next commit; undefined writes nothing', async () => {
    const l = ledger()
    await l.take(1, recs(7, 8), live)
    await settled()
    const failures: unknown[] = []
    await l.commit(
      async () => Promise.reject(new Error('rebalancing')),
      (e) => failures.push(e),
    )
    expect(failures).toHaveLength(1)
    expect(l.positions()).toEqual(new Map([[1, 9]]))
    await l.commit(
      () => undefined,
      (e) => failures.push(e),
    )
    expect(l.positions()).toEqual(new Map([[1, 9]]))
    const written: Map<number, number>[] = []
    await l.commit(
      async (p) => void written.push(new Map(p)),
      (e) => failures.push(e),
    )
    expect(written).toEqual([new Map([[1, 9]])])
    expect(l.positions().size).toBe(0)
    expect(failures).toHaveLength(1)
  })

  it('logBacklog: end minus the committed position per partition, from the first offset where there is none', () => {
    const ends = [
      { partition: 0, low: 0, high: 10 },
      { partition: 1, low: 5, high: 8 },
      { partition: 2, low: 0, high: 4 },
    ]
    // 10 - 7, 8 - 5 (no position: from the first offset), 4 - 4.
    expect(
      logBacklog(ends, [
        { partition: 0, offset: 7 },
        { partition: 1, offset: -1 },
        { partition: 2, offset: 4 },
      ]),
    ).toBe(6)
    expect(logBacklog(ends, [])).toBe(10 + 3 + 4)
  })
})

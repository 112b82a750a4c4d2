import { describe, expect, it } from 'vitest'
import { OffsetLedger, type OffsetLedgerOptions } from '../src/adapter/index.js'
import { waitFor } from './helpers.js'

interface Rec {
  readonly offset: number
}
const recs = (...offsets: number[]): Rec[] => offsets.map((offset) => ({ offset }))
const live = () => true

/** A ledger whose handler waits to be settled by the test: `settle(partition, offset, ok)`. */
function ledger(options: Partial<OffsetLedgerOptions<Rec>> = {}) {
  const open = new Map<string, { resolve: () => void; reject: (e: Error) => void }>()
  const deliveries: { partition: number; offset: number; count: number }[] = []
  const l = new OffsetLedger<Rec>({
    maxInFlight: 10,
    redeliveryDelayMs: 5,
    deliver: (record, partition, count) => {
      deliveries.push({ partition, offset: record.offset, count })
      return new Promise<void>((resolve, reject) =>
        open.set(`${partition}:${record.offset}`, { resolve, reject }),
      )
    },
    ...options,
  })
  const settle = async (partition: number, offset: number, ok = true) => {
    await waitFor(`delivery ${partition}:${offset}`, () => open.has(`${partition}:${offset}`), 10_000)
    const handler = open.get(`${partition}:${offset}`)!
    open.delete(`${partition}:${offset}`)
    if (ok) handler.resolve()
    else handler.reject(new Error('handler failed'))
    await new Promise((resolve) => setImmediate(resolve))
  }
  return { l, settle, deliveries, open }
}

describe('adapter toolkit: OffsetLedger', () => {
  it('commits the lowest unsettled offset per partition, and only positions that moved', async () => {
    const { l, settle } = ledger()
    expect(await l.take(0, recs(5, 6, 7), live)).toBe(7)
    expect(await l.take(1, recs(0), live)).toBe(0)
    // Nothing settled: each partition's position is its first offset (a new group's start).
    l.committed(l.positions())
    expect(l.positions()).toEqual(new Map())
    await settle(0, 6)
    await settle(0, 7)
    expect(l.positions()).toEqual(new Map()) // 5 is still in a handler
    await settle(0, 5)
    await settle(1, 0)
    expect(l.positions()).toEqual(
      new Map([
        [0, 8],
        [1, 1],
      ]),
    )
    l.committed(l.positions())
    expect(l.positions()).toEqual(new Map())
  })

  it('does not hand out again what a fetch from an earlier offset brings back, unless it was rejected', async () => {
    const { l, settle, deliveries } = ledger({ seek: () => true })
    await l.take(0, recs(0, 1, 2), live)
    await settle(0, 1)
    await settle(0, 0, false)
    // The client fetched again from 0: 1 was acknowledged, 2 is still in its handler.
    await l.take(0, recs(0, 1, 2), live)
    expect(deliveries.map((d) => [d.offset, d.count])).toEqual([
      [0, 1],
      [1, 1],
      [2, 1],
      [0, 2],
    ])
  })

  it('seeks to the lowest rejected offset after the delay, and counts deliveries', async () => {
    const seeks: [number, number][] = []
    const rejected: number[] = []
    const { l, settle, deliveries } = ledger({
      seek: (partition, offset) => {
        seeks.push([partition, offset])
        return true
      },
      onRejected: (_e, _p, offset) => void rejected.push(offset),
    })
    await l.take(3, recs(10, 11), live)
    await settle(3, 11, false)
    await settle(3, 10, false)
    await waitFor('a seek', () => seeks.length > 0, 10_000)
    expect(seeks[0]).toEqual([3, 10])
    expect(rejected).toEqual([11, 10])
    expect(l.positions()).toEqual(new Map([[3, 10]])) // 10 is to come again: the position stays at 10
    await l.take(3, recs(10, 11), live)
    expect(deliveries.slice(2).map((d) => d.count)).toEqual([2, 2])
  })

  it('hands a rejected record out again from memory when the client cannot seek', async () => {
    const { l, settle, deliveries } = ledger({ seek: () => false })
    await l.take(0, recs(4), live)
    await settle(0, 4, false)
    await waitFor('two deliveries', () => deliveries.length === 2, 10_000)
    expect(deliveries[1]).toEqual({ partition: 0, offset: 4, count: 2 })
    await settle(0, 4)
    expect(l.positions()).toEqual(new Map([[0, 5]]))
  })

  it('keeps at most maxInFlight unsettled, and stops taking when the partition is no longer owned', async () => {
    const { l, settle, deliveries } = ledger({ maxInFlight: 2 })
    let owned = true
    const taking = l.take(0, recs(0, 1, 2, 3), () => owned)
    await waitFor('two deliveries', () => deliveries.length === 2, 10_000)
    await new Promise((resolve) => setImmediate(resolve))
    expect(deliveries).toHaveLength(2) // the third waits for a slot
    owned = false
    await settle(0, 0)
    expect(await taking).toBe(1) // 2 was not taken: the next owner fetches it
    expect(deliveries).toHaveLength(2)
  })

  it('forgets partitions it no longer owns; stop() hands out nothing more and idle() waits for handlers', async () => {
    const { l, settle, deliveries } = ledger()
    await l.take(0, recs(0), live)
    await l.take(1, recs(0), live)
    await settle(0, 0)
    await settle(1, 0)
    l.keep([1])
    expect(l.positions()).toEqual(new Map([[1, 1]]))
    l.reset()
    expect(l.positions()).toEqual(new Map())
    await l.take(2, recs(0), live)
    l.stop()
    expect(await l.take(2, recs(1), live)).toBeUndefined()
    let idle = false
    const waiting = l.idle().then(() => {
      idle = true
    })
    await new Promise((resolve) => setImmediate(resolve))
    expect(idle).toBe(false)
    await settle(2, 0)
    await waiting
    expect(deliveries).toHaveLength(3)
  })
})

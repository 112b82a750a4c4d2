import type { Envelope } from '@omnibus/core'
import { expect, it } from 'vitest'
import { failoverCounts, keyedPublisher } from '../src/index.js'
import { waitFor } from '../src/wait.js'

it('failoverCounts: lost, duplicates, and first deliveries out of publish order per key', () => {
  const confirmed = new Map([
    ['a', 0],
    ['b', 1],
    ['c', 2],
    ['d', 3],
  ])
  const seen = [
    { id: 'b', key: 'k1', seq: 1 },
    { id: 'a', key: 'k2', seq: 0 }, // another key: in order
    { id: 'c', key: 'k1', seq: 2 },
    { id: 'b', key: 'k1', seq: 1 }, // a redelivery: a duplicate, not out of order
    { id: 'x', key: 'k1', seq: 0 }, // never confirmed (rejected, yet written): not counted for order
  ]
  expect(failoverCounts(seen, confirmed)).toEqual({ lost: 1, duplicates: 1, outOfOrder: 0 })
  const late = [...seen, { id: 'd', key: 'k2', seq: 3 }, { id: 'e', key: 'k2', seq: -1 }]
  expect(failoverCounts(late, new Map([...confirmed, ['e', -1]]))).toEqual({
    lost: 0,
    duplicates: 1,
    outOfOrder: 1,
  })
})

it('keyedPublisher: keyed batches one after another, confirms and rejections recorded, held at holdAt', async () => {
  let open = 0
  let widest = 0
  const sent: Envelope[] = []
  const publish = async (e: Envelope) => {
    sent.push(e)
    widest = Math.max(widest, ++open)
    await new Promise((resolve) => setImmediate(resolve))
    open--
    const { seq } = e.data as { seq: number }
    if (seq >= 40 && seq < 50) throw new Error(`broker down at ${seq}`)
  }
  const p = keyedPublisher(publish, { total: 95, keys: 7, batch: 20, holdAt: 60 })
  await waitFor('the hold', () => p.published === 60, 5_000)
  await new Promise((resolve) => setImmediate(resolve))
  expect(p.published).toBe(60) // held
  p.release()
  await p.done
  expect(p.published).toBe(95)
  expect(widest).toBe(20) // a batch at once, never two
  expect(sent.map((e) => (e.data as { seq: number }).seq)).toEqual([...Array(95).keys()])
  expect(sent.every((e) => e.partitionkey === `k${(e.data as { seq: number }).seq % 7}`)).toBe(true)
  expect(p.confirmed.size).toBe(85)
  expect([...p.confirmed.values()].includes(45)).toBe(false)
  expect(p.confirmed.get(sent[94]!.id)).toBe(94)
  expect(p.rejected).toHaveLength(10)
  expect(p.rejectedAt).toHaveLength(10)
  expect(p.confirmedAt).toHaveLength(85)
  const stopped = keyedPublisher(publish, { total: 1000, keys: 3, batch: 10, holdAt: 10 })
  await waitFor('the first batch', () => stopped.confirmed.size === 10, 5_000)
  stopped.stop() // while held: it ends without another batch
  await stopped.done
  expect(stopped.published).toBe(10)
})

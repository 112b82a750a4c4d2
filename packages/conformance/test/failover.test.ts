import { expect, it } from 'vitest'
import { failoverCounts } from '../src/index.js'

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

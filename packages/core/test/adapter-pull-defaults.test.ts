import { describe, expect, it } from 'vitest'
import { PullLoops } from '../src/adapter/index.js'

/** How many receives a PullLoops with `maxInFlight` keeps open at once when `loops` is left out. */
async function openReceives(maxInFlight: number): Promise<number> {
  const waiting: (() => void)[] = []
  let open = 0
  let most = 0
  const loops = new PullLoops<number>({
    maxInFlight,
    maxBatch: 1,
    onError: () => {},
    // A long poll that finds nothing: open until the test lets it go.
    receive: () => {
      most = Math.max(most, ++open)
      return new Promise((resolve) =>
        waiting.push(() => {
          open--
          resolve([])
        }),
      )
    },
    handle: () => {},
    settle: () => {},
  })
  // Every loop asks at once (its first receive is called within start()).
  loops.start()
  await new Promise((resolve) => setImmediate(resolve))
  const stopping = loops.stop()
  for (const release of waiting.splice(0)) release()
  await stopping
  return most
}

describe('PullLoops defaults', () => {
  it('one receive loop per 4 of maxInFlight, at most 3', async () => {
    expect(await openReceives(1)).toBe(1)
    expect(await openReceives(4)).toBe(1)
    expect(await openReceives(5)).toBe(2)
    expect(await openReceives(100)).toBe(3)
  })
})

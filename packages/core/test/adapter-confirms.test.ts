import { describe, expect, it } from 'vitest'
import { PendingConfirms } from '../src/adapter/index.js'

describe('adapter toolkit: PendingConfirms', () => {
  it('resolves with every answer once all are in, the first word on each counting', async () => {
    const confirms = new PendingConfirms<string>(3)
    let resolved = false
    void confirms.all.then(() => {
      resolved = true
    })
    confirms.settle(1, 'confirmed')
    confirms.settle(0, 'lost')
    confirms.settle(0, 'confirmed') // a second word on message 0: ignored
    await Promise.resolve()
    expect(resolved).toBe(false)
    confirms.settle(2, 'returned')
    expect(await confirms.all).toEqual(['lost', 'confirmed', 'returned'])
  })

  it('resolves with the answers so far when the signal aborts, and at once for no messages', async () => {
    const stop = new AbortController()
    const confirms = new PendingConfirms<string>(2, stop.signal)
    confirms.settle(0, 'confirmed')
    stop.abort()
    const all = await confirms.all
    expect(all).toHaveLength(2)
    expect(all[0]).toBe('confirmed')
    expect(all[1]).toBeUndefined()
    expect(await new PendingConfirms<string>(0).all).toEqual([])
    // A deadline that passed before the batch was built: answered at once, not never.
    expect(await new PendingConfirms<string>(2, AbortSignal.abort()).all).toEqual([undefined, undefined])
  })
})

import { describe, expect, it } from 'vitest'
import { SettleBatches } from '../src/adapter/index.js'

describe('adapter toolkit: SettleBatches', () => {
  it('gathers settles of one kind into batch calls, at most maxItems each; flush waits for all', async () => {
    const calls: [string, number[]][] = []
    let release: () => void = () => undefined
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const settles = new SettleBatches<number>({
      maxItems: 3,
      concurrency: 1,
      send: async (kind, entries) => {
        calls.push([kind, entries])
        await gate
      },
      onError: () => expect.unreachable('no call fails'),
    })
    for (let i = 0; i < 5; i++) settles.push('ack', i)
    settles.push('nack', 9)
    let flushed = false
    const flushing = settles.flush().then(() => {
      flushed = true
    })
    await Promise.resolve()
    expect(flushed).toBe(false)
    release()
    await flushing
    // The first ack leaves alone once its turn comes; the rest gather behind it, three at most.
    const acks = calls.filter(([kind]) => kind === 'ack').map(([, entries]) => entries)
    expect(acks.flat()).toEqual([0, 1, 2, 3, 4])
    expect(Math.max(...acks.map((entries) => entries.length))).toBeLessThanOrEqual(3)
    expect(acks.length).toBeLessThan(5)
    expect(calls.filter(([kind]) => kind === 'nack')).toEqual([['nack', [9]]])
  })

  it('reports a failed call with its entries and goes on; flush still resolves', async () => {
    const failed: [string, unknown, number[]][] = []
    const boom = new Error('queue gone')
    const settles = new SettleBatches<number>({
      maxItems: 10,
      concurrency: 2,
      send: async (kind) => {
        if (kind === 'renew') throw boom
      },
      onError: (kind, error, entries) => failed.push([kind, error, entries]),
    })
    settles.push('renew', 1)
    settles.push('ack', 2)
    await settles.flush()
    expect(failed).toEqual([['renew', boom, [1]]])
    settles.push('renew', 3)
    await settles.flush()
    expect(failed.map(([, , entries]) => entries)).toEqual([[1], [3]])
  })
})

import { describe, expect, it } from 'vitest'
import { channelSwitch, channelSwitchOption, checkOptions, sharedLimit } from '../src/adapter/index.js'

describe('adapter toolkit: channelSwitch', () => {
  it('true for every channel, false or left out for none, a list for those named, a predicate as it is', () => {
    expect(channelSwitch(true)('a')).toBe(true)
    expect(channelSwitch(false)('a')).toBe(false)
    expect(channelSwitch()('a')).toBe(false)
    const listed = channelSwitch(['orders', 'payments'])
    expect([listed('orders'), listed('payments'), listed('audit')]).toEqual([true, true, false])
    expect(channelSwitch((channel) => channel.startsWith('o'))('orders')).toBe(true)
  })

  it('channelSwitchOption: checkOptions lets the four shapes through and names the key otherwise', () => {
    const specs = { fifo: channelSwitchOption }
    for (const fifo of [true, false, ['a'], () => true])
      expect(checkOptions(specs, { fifo }, 't')).toEqual({ fifo })
    expect(() => checkOptions(specs, { fifo: 'yes' }, 't')).toThrow(/t\.fifo.*a list of channel names/)
    expect(() => checkOptions(specs, { fifo: ['a', 1] }, 't')).toThrow(/t\.fifo/)
  })
})

describe('adapter toolkit: sharedLimit', () => {
  it('one semaphore per key and size in the process: callers with both the same share its slots', async () => {
    const a = sharedLimit('http://broker|eu', 2)
    expect(sharedLimit('http://broker|eu', 2)).toBe(a)
    expect(sharedLimit('http://broker|eu', 3)).not.toBe(a)
    expect(sharedLimit('http://other|eu', 2)).not.toBe(a)
    await a.acquire()
    await a.acquire()
    expect(sharedLimit('http://broker|eu', 2).tryAcquire()).toBe(false)
    a.release()
    expect(sharedLimit('http://broker|eu', 2).tryAcquire()).toBe(true)
  })
})

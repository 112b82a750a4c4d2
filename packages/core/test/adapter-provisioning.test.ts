import { describe, expect, it } from 'vitest'
import { channelNotFound, KnownGroups, OmnibusError } from '../src/adapter/index.js'

describe('adapter toolkit: provisioning', () => {
  it('KnownGroups: keeps groups per channel by key, in the order they became known', () => {
    const known = new KnownGroups<{ group: string }>()
    expect(known.has('orders')).toBe(false)
    expect(known.of('orders')).toEqual([])
    known.add('orders', 'q-billing', { group: 'billing' })
    known.add('orders', 'q-audit', { group: 'audit' })
    known.add('orders', 'q-billing', { group: 'billing' }) // known again: still once
    known.add('payments', 'q-billing', { group: 'billing' })
    expect(known.of('orders')).toEqual([{ group: 'billing' }, { group: 'audit' }])
    known.remove('orders', 'q-billing')
    known.remove('orders', 'q-unknown')
    expect(known.of('orders')).toEqual([{ group: 'audit' }])
    known.remove('orders', 'q-audit')
    expect(known.has('orders')).toBe(false)
    expect(known.has('payments')).toBe(true)
  })

  it('channelNotFound: CHANNEL_NOT_FOUND saying why nothing made it, with the cause', () => {
    const cause = new Error('NotFound')
    const off = channelNotFound('foo', 'topic "t" of channel "t"', false, cause)
    expect(off).toBeInstanceOf(OmnibusError)
    expect(off.code).toBe('CHANNEL_NOT_FOUND')
    expect(off.cause).toBe(cause)
    expect(off.message).toBe(
      '[omnibus] [foo] topic "t" of channel "t" does not exist and provisioning is off ' +
        '(provision: false); create it, or turn provisioning on (NotFound)',
    )
    const reply = channelNotFound('foo', 'queue "r"', true)
    expect(reply.message).toMatch(
      /^\[omnibus\] \[foo\] queue "r" does not exist and it is never created by publishing/,
    )
    expect(reply.cause).toBeUndefined()
  })
})

import { describe, expect, it } from 'vitest'
import { OmnibusError, provisioningFailure } from '../src/adapter/index.js'

describe('adapter toolkit: provisioningFailure', () => {
  const cause = new Error('broker said no')
  const what = 'queue "q" of channel "c"'

  it('an OmnibusError stays as it is', () => {
    const known = new OmnibusError('CHANNEL_NOT_FOUND', 'already said')
    expect(provisioningFailure('foo', what, known, 'other', 'the permissions')).toBe(known)
  })

  it('missing: CHANNEL_NOT_FOUND in channelNotFound words, must-exist or provisioning off', () => {
    const off = provisioningFailure('foo', what, cause, 'missing', 'the permissions')
    expect(off.code).toBe('CHANNEL_NOT_FOUND')
    expect(off.message).toMatch(
      /^\[omnibus\] \[foo\] queue "q" of channel "c" does not exist and provisioning is off/,
    )
    expect(off.cause).toBe(cause)
    const reply = provisioningFailure('foo', what, cause, 'missing', 'the permissions', true)
    expect(reply.message).toMatch(/never created by publishing/)
  })

  it('unreachable: TRANSPORT_UNAVAILABLE; other: PROVISIONING_FAILED saying what to check', () => {
    const down = provisioningFailure('foo', what, cause, 'unreachable', 'the permissions')
    expect(down.code).toBe('TRANSPORT_UNAVAILABLE')
    expect(down.message).toBe(
      `[omnibus] [foo] cannot reach the broker to set up ${what}; is it up? (broker said no)`,
    )
    const other = provisioningFailure('foo', what, cause, 'other', 'the IAM permissions')
    expect(other.code).toBe('PROVISIONING_FAILED')
    expect(other.message).toBe(
      `[omnibus] [foo] could not set up ${what}; check the IAM permissions (broker said no)`,
    )
    expect(other.cause).toBe(cause)
  })
})

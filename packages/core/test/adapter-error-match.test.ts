import { describe, expect, it } from 'vitest'
import { errorIs, isConnectionError, OmnibusError } from '../src/adapter/index.js'

const named = (name: string, fields: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${name} happened`), { name }, fields)

describe('adapter toolkit: error tables', () => {
  it('errorIs: by name, code or Code, anywhere in the chain, strings and numbers', () => {
    expect(errorIs(named('QueueDoesNotExist'), 'QueueDoesNotExist', 'Other')).toBe(true)
    expect(
      errorIs(
        named('X', { Code: 'AWS.SimpleQueueService.NonExistentQueue' }),
        'AWS.SimpleQueueService.NonExistentQueue',
      ),
    ).toBe(true)
    expect(errorIs(Object.assign(new Error('gone'), { code: 5 }), 4, 5)).toBe(true)
    const wrapped = new OmnibusError('PROVISIONING_FAILED', 'could not', { cause: named('NotFound') })
    expect(errorIs(wrapped, 'NotFound')).toBe(true)
    expect(errorIs(named('NotFound'), 'QueueDoesNotExist')).toBe(false)
    expect(errorIs(Object.assign(new Error('gone'), { code: 5 }), '5')).toBe(false)
    expect(errorIs(undefined, 'NotFound')).toBe(false)
    expect(errorIs('NotFound', 'NotFound')).toBe(false)
  })

  it('isConnectionError: a socket code or its text anywhere in the chain, nothing else', () => {
    expect(isConnectionError(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }))).toBe(true)
    expect(
      isConnectionError(
        new Error('request failed', { cause: Object.assign(new Error('x'), { code: 'EAI_AGAIN' }) }),
      ),
    ).toBe(true)
    expect(isConnectionError(new Error('socket hang up'))).toBe(true)
    expect(isConnectionError(new AggregateError([new Error('connect ECONNRESET 127.0.0.1:4566')]))).toBe(true)
    expect(isConnectionError(Object.assign(new Error('denied'), { code: 'EACCES' }))).toBe(false)
    expect(isConnectionError(new Error('AccessDenied'))).toBe(false)
    expect(isConnectionError(undefined)).toBe(false)
  })
})

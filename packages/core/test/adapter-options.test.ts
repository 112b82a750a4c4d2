import { describe, expect, it } from 'vitest'
import { checkOptions, hasStrings, type OptionSpecs } from '../src/adapter/index.js'
import { ConfigError } from '../src/index.js'

const specs: OptionSpecs = {
  endpoint: { type: 'string', valid: URL.canParse, expected: 'a URL' },
  client: {
    type: 'any',
    valid: (v) => typeof (v as { send?: unknown } | null)?.send === 'function',
    expected: 'a client with send()',
  },
  logger: { type: 'any' },
}

function failure(value: unknown): ConfigError {
  try {
    checkOptions(specs, value, 'transports.x')
  } catch (error) {
    return error as ConfigError
  }
  throw new Error('no ConfigError')
}

describe('checkOptions: rules the types cannot say (valid, expected)', () => {
  it('passes what `valid` accepts and refuses the rest, naming the key and what passes', () => {
    const client = { send() {} }
    expect(
      checkOptions(specs, { endpoint: 'http://127.0.0.1:1', client, logger: 1 }, 'transports.x'),
    ).toEqual({
      endpoint: 'http://127.0.0.1:1',
      client,
      logger: 1,
    })
    const bad = failure({ endpoint: 'not a url' })
    expect(bad).toBeInstanceOf(ConfigError)
    expect(bad.key).toBe('transports.x.endpoint')
    expect(bad.message).toContain('must be a URL, got "not a url"')
    expect(failure({ client: {} }).key).toBe('transports.x.client')
    expect(failure({ client: null }).message).toContain('must be a client with send(), got null')
  })

  it('hasStrings: an object whose keys all hold strings', () => {
    const credentials = hasStrings('id', 'secret')
    expect(credentials({ id: 'a', secret: 'b', extra: 1 })).toBe(true)
    expect(credentials({ id: 'a' })).toBe(false)
    expect(credentials({ id: 'a', secret: 2 })).toBe(false)
    expect(credentials(null)).toBe(false)
    expect(credentials(['a', 'b'])).toBe(false)
  })
})

import { describe, expect, it } from 'vitest'
import { checkOptions, credentialsOption } from '../src/adapter/index.js'

describe('adapter toolkit: credentialsOption', () => {
  const specs = {
    credentials: credentialsOption<{ user: string; secret: string }>(['user', 'secret'], '{ user, secret }'),
  }

  it('lets an object whose fields all hold strings through, extra fields too', () => {
    const credentials = { user: 'u', secret: 's', token: 't' }
    expect(checkOptions(specs, { credentials }, 't')).toEqual({ credentials })
  })

  it('names the key and the shape, never the values, for anything else', () => {
    for (const credentials of ['u:s', null, { user: 'u' }, { user: 'u', secret: 42 }]) {
      const check = () => checkOptions(specs, { credentials }, 't')
      expect(check).toThrow(/t\.credentials.*must be \{ user, secret \}/)
    }
    expect(() => checkOptions(specs, { credentials: { user: 'u', secret: 7 } }, 't')).not.toThrow(/\b7\b/)
  })
})

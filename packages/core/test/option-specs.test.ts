import { inspect } from 'node:util'
import { describe, expect, expectTypeOf, it } from 'vitest'
import {
  anyOption,
  checkOptions,
  type OptionSpecs,
  type OptionValues,
  type TlsOptions,
  tlsOption,
  withSafeView,
} from '../src/adapter/index.js'
import { ConfigError } from '../src/index.js'

const specs = {
  /** Where to connect. */
  url: { type: 'string' },
  mode: { type: 'string', oneOf: ['binary', 'structured'] },
  port: { type: 'integer', max: 65535 },
  timeoutMs: { type: 'duration' },
  declare: { type: 'boolean' },
  names: { type: 'strings' },
  socket: { type: 'object' },
  tls: {
    type: 'any',
    check: (v) =>
      typeof v === 'boolean' || (typeof v === 'object' && v !== null)
        ? undefined
        : 'must be true/false or an object',
  },
} as const satisfies OptionSpecs

describe('option specs', () => {
  it('OptionValues reads the options type off the specs', () => {
    expectTypeOf<OptionValues<typeof specs>>().toEqualTypeOf<{
      url?: string
      mode?: 'binary' | 'structured'
      port?: number
      timeoutMs?: number
      declare?: boolean
      names?: string[]
      socket?: Record<string, unknown>
      tls?: unknown
    }>()
  })

  it('anyOption<T> and tlsOption give an `any` key its type, and tlsOption checks it', () => {
    const typed = {
      tls: tlsOption,
      names: anyOption<boolean | readonly string[]>(),
    } as const satisfies OptionSpecs
    expectTypeOf<OptionValues<typeof typed>>().toEqualTypeOf<{
      tls?: boolean | TlsOptions
      names?: boolean | readonly string[]
    }>()
    expect(checkOptions(typed, { tls: { caFile: 'ca.pem' }, names: ['a'] }, 't')).toEqual({
      tls: { caFile: 'ca.pem' },
      names: ['a'],
    })
    expect(() => checkOptions(typed, { tls: 'yes' }, 't')).toThrow(
      /t\.tls.*must be true\/false or an object of TLS/,
    )
  })

  it("an `any` spec's check refuses a value with its reason and the key", () => {
    expect(checkOptions(specs, { tls: true }, 't')).toEqual({ tls: true })
    expect(checkOptions(specs, { tls: { ca: 'x' } }, 't')).toEqual({ tls: { ca: 'x' } })
    const refused = (() => {
      try {
        checkOptions(specs, { tls: 'yes' }, 't')
      } catch (error) {
        return error
      }
    })()
    expect(refused).toBeInstanceOf(ConfigError)
    expect(String(refused)).toMatch(/t\.tls.*must be true\/false or an object, got "yes"/)
  })
  it('withSafeView shows what `shown` picks, without secrets', () => {
    const settings = withSafeView({ url: 'amqp://u:hunter2@h', password: 'hunter2' })
    const transport = withSafeView({ name: 't', settings, inner: { password: 'hunter2' } }, () => ({
      transport: 't',
      settings,
    }))
    const printed = `${JSON.stringify(transport)} ${inspect(transport, { depth: Infinity })}`
    expect(printed).toContain('"transport":"t"')
    expect(printed).not.toContain('hunter2')
    expect(printed).not.toContain('inner')
  })
})

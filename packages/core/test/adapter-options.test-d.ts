import { describe, expectTypeOf, it } from 'vitest'
import type { OptionSpecs, OptionValues } from '../src/adapter/index.js'
import { publishTimeoutOption } from '../src/adapter/index.js'

describe('OptionValues', () => {
  it('types each option from its spec', () => {
    const specs = {
      mode: { type: 'string', oneOf: ['binary', 'structured'] },
      name: { type: 'string' },
      on: { type: 'boolean' },
      count: { type: 'integer', min: 0 },
      publishTimeoutMs: publishTimeoutOption,
      hosts: { type: 'strings' },
      extra: { type: 'object' },
      client: { type: 'any' },
    } as const satisfies OptionSpecs
    expectTypeOf<OptionValues<typeof specs>>().toEqualTypeOf<{
      mode?: 'binary' | 'structured'
      name?: string
      on?: boolean
      count?: number
      publishTimeoutMs?: number
      hosts?: string[]
      extra?: Record<string, unknown>
      client?: unknown
    }>()
  })
})

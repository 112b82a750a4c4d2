import { describe, expect, it } from 'vitest'
import { randomUuid } from '../src/envelope/uuid.js'

const V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('randomUuid', () => {
  it('makes version 4 UUIDs, none repeated, across many batches', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 10_000; i++) {
      const uuid = randomUuid()
      expect(uuid).toMatch(V4)
      seen.add(uuid)
    }
    expect(seen.size).toBe(10_000)
  })

  it('spreads every hex digit over every random position', () => {
    // 122 random bits: over 4,000 UUIDs each position (version and variant aside) takes all 16 digits.
    const digits = Array.from({ length: 36 }, () => new Set<string>())
    for (let i = 0; i < 4_000; i++) {
      const uuid = randomUuid()
      for (let at = 0; at < uuid.length; at++) digits[at]!.add(uuid[at]!)
    }
    digits.forEach((set, at) => {
      const expected = [8, 13, 18, 23].includes(at) ? 1 : at === 14 ? 1 : at === 19 ? 4 : 16
      expect(set.size, `position ${at}`).toBe(expected)
    })
  })
})

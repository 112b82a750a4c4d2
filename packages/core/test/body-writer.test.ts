import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { structuredBytes, utf8Bytes } from '../src/envelope/body-writer.js'

/** Any UTF-16 text (lone surrogates included), short or past the slab's own-buffer size. */
const text = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({
    unit: fc.constantFrom('a', 'é', '漢', '🚀', '\ud800', '\udc00', '"', '\u0000'),
    maxLength: 9000,
  }),
)
const head = fc.oneof(
  fc.constant('{}'),
  fc.dictionary(fc.string(), fc.string({ unit: 'binary' })).map((o) => JSON.stringify(o)),
)

describe('body writer: bodies written into shared slabs', () => {
  it('writes what Buffer.from of the joined text writes, for any text and size', () => {
    const kept: [Buffer, Buffer][] = []
    fc.assert(
      fc.property(
        head,
        fc.constantFrom('data', 'data_base64') as fc.Arbitrary<'data' | 'data_base64'>,
        text,
        (h, member, data) => {
          const joined = `${h.slice(0, -1)}${h.length > 2 ? ',' : ''}"${member}":${data}}`
          const body = structuredBytes(h, member, data)
          expect(body.equals(Buffer.from(joined, 'utf8'))).toBe(true)
          kept.push([body, Buffer.from(joined, 'utf8')])
          const plain = utf8Bytes(data)
          expect(plain.equals(Buffer.from(data, 'utf8'))).toBe(true)
          kept.push([plain, Buffer.from(data, 'utf8')])
        },
      ),
      { numRuns: 2000 },
    )
    // Later bodies never wrote over earlier ones sharing their slab.
    for (const [body, expected] of kept) expect(body.equals(expected)).toBe(true)
  })
})

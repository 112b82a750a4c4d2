import { describe, expect, it } from 'vitest'
import { decodeMessage } from '../src/adapter/index.js'

/** Binary-mode headers as a Kafka client hands them over: bytes, in buffers it may reuse. */
const headers = (type: Uint8Array, id: string) => ({
  ce_specversion: Buffer.from('1.0'),
  ce_id: Buffer.from(id),
  ce_source: Buffer.from('urn:test:header-bytes'),
  ce_type: type,
})

const decodeType = (type: Uint8Array, id: string) =>
  decodeMessage({ body: Buffer.alloc(0), headers: headers(type, id) }, ['ce_'])

describe('binary header bytes met before (decoded once, then compared)', () => {
  it('reads the bytes as they are now, also when the client reused the buffer of an earlier message', () => {
    const buffer = Buffer.from('com.acme.first')
    for (let i = 0; i < 3; i++) expect(decodeType(buffer, `id-${i}`).event?.type).toBe('com.acme.first')
    buffer.write('com.acme.other')
    expect(decodeType(buffer, 'id-3').event?.type).toBe('com.acme.other')
    buffer.write('com.acme.first')
    expect(decodeType(buffer, 'id-4').event?.type).toBe('com.acme.first')
  })

  it('gives each message its own id and time when they change every message', () => {
    const ids = Array.from({ length: 6 }, (_, i) => `id-${i}`)
    const types = ids.map((id) => decodeType(Buffer.from('com.acme.ids'), id).event?.id)
    expect(types).toEqual(ids)
  })

  it('still refuses bytes that are not UTF-8 after valid ones under the same header', () => {
    expect(decodeType(Buffer.from('com.acme.valid'), 'a').event?.type).toBe('com.acme.valid')
    expect(decodeType(Buffer.from('com.acme.valid'), 'b').event?.type).toBe('com.acme.valid')
    const decoded = decodeType(Buffer.from([0x63, 0xff, 0x64]), 'c')
    expect(decoded.malformed?.reason).toMatch(/attribute "type" \(header ce_type\) is not valid UTF-8/)
    expect(decodeType(Buffer.from('com.acme.valid'), 'd').event?.type).toBe('com.acme.valid')
  })

  it('takes a longer value than it compares, or one of another length, as it is', () => {
    const long = `com.acme.${'x'.repeat(200)}`
    expect(decodeType(Buffer.from(long), 'a').event?.type).toBe(long)
    expect(decodeType(Buffer.from(`${long}y`), 'b').event?.type).toBe(`${long}y`)
    expect(decodeType(Buffer.from('com.acme.valid!'), 'c').event?.type).toBe('com.acme.valid!')
  })
})

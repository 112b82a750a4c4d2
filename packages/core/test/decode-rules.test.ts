import { describe, expect, it } from 'vitest'
import { decodeMessage, STRUCTURED_CONTENT_TYPE } from '../src/adapter/index.js'
import { decodeWarning } from '../src/envelope/encoded.js'

const base = { specversion: '1.0', id: 'i-1', source: 'urn:other-sdk', type: 'com.acme.t' }
const structured = (attributes: Record<string, unknown>) =>
  decodeMessage(
    {
      body: Buffer.from(JSON.stringify({ ...base, ...attributes })),
      headers: { 'content-type': STRUCTURED_CONTENT_TYPE },
    },
    [],
  )
const binary = (headers: Record<string, string | Uint8Array>) =>
  decodeMessage(
    {
      body: Buffer.from('{}'),
      headers: { ce_specversion: '1.0', ce_id: 'i', ce_source: 's', ce_type: 't', ...headers },
    },
    ['ce_'],
  )

describe('what arrives is held to the spec and to Omnibus rules (defect 10)', () => {
  it.each([
    ['messagekind', { messagekind: 'banana' }],
    ['replyto', { replyto: 'orders' }],
    ['partitionkey', { partitionkey: '' }],
    ['correlationid', { correlationid: 42 }],
    ['deadline', { deadline: 'soon' }],
    ['replystatus', { replystatus: 'maybe' }],
    ['traceparent', { traceparent: 'not-a-trace' }],
    ['dlattempts', { dlattempts: -1 }],
    ['specversion', { specversion: '0.3' }],
    ['id', { id: '' }],
    ['time', { time: 'March 7, 2024' }],
    ['datacontenttype', { datacontenttype: 'json' }],
    ['dataschema', { dataschema: 'relative/path' }],
    ['subject', { subject: 'bell \u0007' }],
    ['count', { count: 2 ** 31 }],
    ['ratio', { ratio: 0.5 }],
    ['nested', { nested: { a: 1 } }],
    ['Bad-Name', { 'Bad-Name': 'x' }],
  ])('a structured event with a bad %s is malformed, with the reason', (name, attributes) => {
    const decoded = structured(attributes)
    expect(decoded.event).toBeUndefined()
    expect(decoded.malformed!.reason).toContain(`"${name}"`)
  })

  it('checks every message however like the last valid one (the check remembers valid attributes by place)', () => {
    const data = { data: { n: 1 } }
    for (let i = 0; i < 3; i++) expect(structured({ subject: 'ok', ...data }).event).toBeDefined()
    expect(structured({ subject: 'o\u0001k', ...data }).malformed?.reason).toMatch(/attribute "subject"/)
    // The same value in another attribute's place is checked by that attribute's rule.
    expect(structured({ messagekind: 'ok', ...data }).malformed?.reason).toMatch(/attribute "messagekind"/)
    expect(structured({ subject: 'ok', ...data }).event).toBeDefined()
  })

  it('binary mode too: bad values, and attributes whose bytes are not UTF-8', () => {
    expect(binary({ ce_messagekind: 'banana' }).malformed!.reason).toMatch(/messagekind/)
    const invalid = Buffer.from([0x6f, 0x6b, 0xff, 0xfe])
    expect(binary({ ce_subject: invalid }).malformed!.reason).toMatch(/"subject".*UTF-8/)
    // Bytes that are UTF-8 are read as text; headers that are not CloudEvents attributes are not checked.
    expect(binary({ ce_subject: Buffer.from('ok ✓'), other: invalid }).event!.subject).toBe('ok ✓')
  })

  it('a structured body with invalid UTF-8 inside a string is malformed, not read as U+FFFD', () => {
    const body = Buffer.concat([
      Buffer.from(`${JSON.stringify(base).slice(0, -1)},"subject":"a`),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}'),
    ])
    const decoded = decodeMessage({ body, headers: { 'content-type': STRUCTURED_CONTENT_TYPE } }, [])
    expect(decoded.malformed!.reason).toMatch(/UTF-8/)
  })

  it('data and data_base64 together, or data_base64 that is not base64, are malformed', () => {
    expect(structured({ data: 1, data_base64: 'AQ==' }).malformed!.reason).toMatch(/both/)
    expect(structured({ data_base64: 'not base64!' }).malformed!.reason).toMatch(/base64/)
    expect(Buffer.from(structured({ data_base64: 'AQI=' }).event!.data as Uint8Array)).toEqual(
      Buffer.from([1, 2]),
    )
  })

  it('reads a null attribute as an absent one, as the JSON format says', () => {
    const decoded = structured({ subject: null, tenant: null })
    expect(decoded.event).toBeDefined()
    expect('subject' in decoded.event!).toBe(false)
  })

  it('accepts what breaks only a SHOULD (a long extension name), warning once per name', () => {
    const name = `long${Math.random().toString(36).slice(2, 10)}${'x'.repeat(300)}`
    const first = structured({ [name]: 'v' })
    const second = structured({ [name]: 'w' })
    expect(first.event![name]).toBe('v')
    expect(decodeWarning(first.event!)).toMatch(/extension name "long.*" is 3\d\d characters/)
    expect(second.event![name]).toBe('w')
    expect(decodeWarning(second.event!)).toBeUndefined()
  })

  it('accepts what Omnibus and other SDKs write', () => {
    const decoded = structured({
      time: '2024-03-07T10:00:00.123456789+05:30',
      messagekind: 'query',
      replyto: 'omnibus.reply.svc.1a2b3c4d',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      tracestate: '',
      datacontenttype: 'application/vnd.acme+json; charset=utf-8',
      dataschema: 'https://acme.example/schemas/t.json',
      n: -(2 ** 31),
      flag: false,
      data: { ok: true },
    })
    expect(decoded.malformed).toBeUndefined()
    expect(decoded.event!.n).toBe(-(2 ** 31))
  })
})

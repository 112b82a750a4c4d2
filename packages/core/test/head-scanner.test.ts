import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeMessage, STRUCTURED_CONTENT_TYPE } from '../src/adapter/index.js'
import { NOT_OURS, scanHead } from '../src/envelope/head-scanner.js'

/** Strings meant to break a hand-written reader: quotes, backslashes, control characters, lone surrogates, non-ASCII. */
const hostile = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({
    unit: fc.constantFrom(
      '"',
      '\\',
      '\u0000',
      '\u001f',
      '\u007f',
      '\ud800',
      '\udc00',
      'é',
      '漢',
      'a',
      ',',
      ':',
      '{',
      '}',
    ),
  }),
  fc.constantFrom('1.0', 'urn:s', 'data', '"data":{', '\\"', '\\u0022'),
)
const name = fc.oneof(
  fc.constantFrom(
    'specversion',
    'id',
    'source',
    'type',
    'time',
    'x1',
    'data',
    'data_base64',
    'Id',
    '__proto__',
    '',
  ),
  fc.string({ unit: 'binary', maxLength: 6 }),
)
const value = fc.oneof(
  hostile,
  fc.integer(),
  fc.constantFrom(0, -0, 1.5, 1e21, 2 ** 53 + 1, -(2 ** 60), true, false, null),
  fc.jsonValue(),
)
/** A member written as JSON writes it, or with the string's characters put in raw (no escapes at all). */
const member = fc.tuple(name, value, fc.boolean())
const write = ([k, v, raw]: [string, unknown, boolean]) =>
  `${JSON.stringify(k)}:${raw && typeof v === 'string' ? `"${v}"` : (JSON.stringify(v) ?? 'null')}`

/** The members JSON.parse reads before the first `data`, in order, when the head alone parses. */
function parsedHead(text: string, at: number): [string, unknown][] | undefined {
  const head = text.slice(0, at - '"data":'.length - 1)
  try {
    return Object.entries(JSON.parse(`${head}}`) as Record<string, unknown>)
  } catch {
    return undefined
  }
}

describe('scanHead: the structured head read without JSON.parse', () => {
  it('reads what JSON.parse reads, or leaves the document to it (hostile strings, any layout)', () => {
    let accepted = 0
    fc.assert(
      fc.property(fc.array(member, { maxLength: 8 }), fc.jsonValue(), (members, data) => {
        const text = `{${[...members.map(write), `"data":${JSON.stringify(data) ?? 'null'}`].join(',')}}`
        const into: Record<string, unknown> = {}
        const at = scanHead(text, into)
        if (at === NOT_OURS) return
        accepted++
        expect(text.slice(at - '"data":'.length, at)).toBe('"data":')
        const read = Object.entries(into)
        // Control characters JSON.parse refuses raw: scanHead reads them, the attribute rules refuse them.
        if (read.some(([, v]) => typeof v === 'string' && [...v].some((c) => c < ' '))) return
        expect(read).toEqual(parsedHead(text, at))
        expect(Object.getPrototypeOf(into)).toBe(Object.prototype)
      }),
      { numRuns: 5000 },
    )
    expect(accepted).toBeGreaterThan(50)
  }, 60_000)

  it('reads the head Omnibus writes, and refuses white space, escapes, floats and null', () => {
    const text = '{"specversion":"1.0","id":"é漢🚀","n":-42,"b":true,"c":false,"data":{"a":1}}'
    const into: Record<string, unknown> = {}
    expect(scanHead(text, into)).toBe(text.indexOf('{"a"'))
    expect(into).toEqual({ specversion: '1.0', id: 'é漢🚀', n: -42, b: true, c: false })
    for (const other of [
      '{ "id":"a","data":{}}',
      '{"id":"a\\"b","data":{}}',
      '{"id":1.5,"data":{}}',
      '{"id":01,"data":{}}',
      '{"id":null,"data":{}}',
      '{"data":{},"id":"a"}',
      '{"id":"a"}',
      '{"ID":"a","data":{}}',
      '{"id":"a"',
      '{"id":"a","id":"b","data":{}}',
    ])
      expect(scanHead(other, {}), other).toBe(NOT_OURS)
  })

  it('still finds a repeated name after documents whose names it learnt', () => {
    const valid = '{"specversion":"1.0","id":"i","source":"s","type":"t","data":{}}'
    for (const repeated of [
      '{"specversion":"1.0","id":"i","id":"j","type":"t","data":{}}',
      '{"specversion":"1.0","id":"i","source":"s","type":"t","id":"j","data":{}}',
      '{"specversion":"1.0","specversion":"1.0","source":"s","type":"t","data":{}}',
    ]) {
      expect(scanHead(valid, {})).toBe(valid.indexOf('{}'))
      expect(scanHead(repeated, {}), repeated).toBe(NOT_OURS)
      // Twice: the names of the refused document are the ones expected now.
      expect(scanHead(repeated, {}), repeated).toBe(NOT_OURS)
    }
  })

  it('refuses a repeated attribute whose first value JSON.parse refuses, as the eager decode does', () => {
    const text = '{"specversion":"1.0","id":"bad\u0001","id":"i","source":"s","type":"t","data":{}}'
    expect(text).toContain('\u0001')
    const decoded = decodeMessage(
      { body: Buffer.from(text), headers: { 'content-type': STRUCTURED_CONTENT_TYPE } },
      [],
    )
    expect(decoded.event).toBeUndefined()
    expect(decoded.malformed?.reason).toMatch(/not JSON/)
  })

  it('decodes a document with hostile attribute strings as the eager parse does', () => {
    const decode = (text: string) =>
      decodeMessage({ body: Buffer.from(text), headers: { 'content-type': STRUCTURED_CONTENT_TYPE } }, [])
    fc.assert(
      fc.property(hostile, fc.boolean(), (subject, raw) => {
        const written = raw ? `"${subject}"` : JSON.stringify(subject)
        const compact = `{"specversion":"1.0","id":"i","source":"s","type":"t","subject":${written},"data":{"k":1}}`
        const lazy = decode(compact)
        // As the receiver reads the bytes (a lone surrogate sent raw arrives as U+FFFD), spaced out: parsed whole.
        const received = Buffer.from(compact).toString('utf8')
        let spaced: string
        try {
          spaced = JSON.stringify(JSON.parse(received), null, 1)
        } catch {
          // Not JSON: malformed, for the reason JSON.parse gives.
          expect(lazy.malformed?.reason).toMatch(/not JSON/)
          return
        }
        const eager = decode(spaced)
        if (eager.malformed) expect(lazy.malformed?.reason).toBe(eager.malformed.reason)
        else expect({ ...lazy.event, data: lazy.event?.data }).toEqual({ ...eager.event })
      }),
      { numRuns: 3000 },
    )
  }, 60_000)
})

/**
 * Reads the attributes of a structured document laid out as Omnibus writes it
 * (`{"name":value,…,"data":…}`, no white space, data last) without JSON.parse:
 * parsing the head as JSON text cost a copy of it, the parse, and a search for
 * `"data":` before it, about a third of a received message's decode. Only a
 * subset of JSON is read here; anything else (white space, escapes, floats,
 * null, other names, data first or missing) answers NOT_OURS and the caller
 * parses the document as JSON.
 */

import { CORE_NAMES, OWN_NAMES } from './rules.js'

/** What scanHead answers for a document outside its subset. */
export const NOT_OURS = -1

const QUOTE = 0x22
const COLON = 0x3a
const COMMA = 0x2c
const OPEN_OBJECT = 0x7b
const MINUS = 0x2d
const ZERO = 0x30
const NINE = 0x39
const LOWER_A = 0x61
const LOWER_Z = 0x7a

/**
 * The names of the last document read, in order: senders write the same names in
 * the same order message after message, so a name is usually compared whole with
 * the one expected (and the property set with a key seen before) rather than
 * checked a character at a time.
 */
const expected: string[] = []
const MAX_EXPECTED = 32
/**
 * How many of `expected`'s first names are known to differ from each other
 * (they were one valid document's names): a document whose names so far all
 * matched them cannot have repeated one, so it needs no look-up for a repeat.
 */
let distinct = 0

/**
 * The attribute names Omnibus knows, as the literals of this module: a name read
 * from a document is replaced by its literal, a key the property store has seen
 * (a sliced copy would be looked up in the string table at every store).
 */
const LITERALS = new Map<string, string>([...CORE_NAMES, ...OWN_NAMES].map((name) => [name, name]))

/**
 * Sets each attribute before the data member on `into` and returns the index
 * where the data member's value begins, or NOT_OURS. The names read are
 * CloudEvents names (lower-case a-z and 0-9: never `__proto__`), the values
 * strings without escapes, integers, true and false.
 *
 * Strings may hold what JSON.parse refuses raw (control characters): the caller
 * validates the attributes, whose rules refuse those too, and parses the document
 * as JSON when they fail, for JSON.parse's reason. So what this accepts and the
 * rules pass, JSON.parse reads the same.
 */
export function scanHead(text: string, into: Record<string, unknown>): number {
  const length = text.length
  if (text.charCodeAt(0) !== OPEN_OBJECT) return NOT_OURS
  let i = 1
  for (let member = 0; ; member++) {
    if (text.charCodeAt(i) !== QUOTE) return NOT_OURS
    const nameStart = ++i
    const known = expected[member]
    let name: string
    // The name expected here (a-z and 0-9, so the quote after it ends it): compared in place, not copied.
    if (
      known !== undefined &&
      text.startsWith(known, nameStart) &&
      text.charCodeAt(nameStart + known.length) === QUOTE
    ) {
      name = known
      i = nameStart + known.length
    } else {
      i = text.indexOf('"', nameStart)
      if (i === -1 || i === nameStart) return NOT_OURS
      for (let k = nameStart; k < i; k++) {
        const c = text.charCodeAt(k)
        if (!((c >= LOWER_A && c <= LOWER_Z) || (c >= ZERO && c <= NINE))) return NOT_OURS
      }
      const read = text.slice(nameStart, i)
      name = LITERALS.get(read) ?? read
      if (member < MAX_EXPECTED) {
        expected[member] = name
        if (distinct > member) distinct = member
      }
    }
    if (text.charCodeAt(i + 1) !== COLON) return NOT_OURS
    i += 2
    // Data first would leave no attributes to read: JSON.parse says what is wrong with such a document.
    if (name === 'data') {
      if (member === 0) return NOT_OURS
      distinct = Math.min(member, MAX_EXPECTED)
      return i
    }
    let c = text.charCodeAt(i)
    let value: string | number | boolean
    if (c === QUOTE) {
      const end = text.indexOf('"', i + 1)
      if (end === -1) return NOT_OURS
      value = text.slice(i + 1, end)
      // An escape (the quote found may be an escaped one): JSON.parse reads it.
      if (value.indexOf('\\') !== -1) return NOT_OURS
      i = end + 1
    } else if (c === 0x74 && text.startsWith('true', i)) {
      value = true
      i += 4
    } else if (c === 0x66 && text.startsWith('false', i)) {
      value = false
      i += 5
    } else {
      const start = i
      if (c === MINUS) c = text.charCodeAt(++i)
      const digits = i
      while (c >= ZERO && c <= NINE) c = text.charCodeAt(++i)
      const count = i - digits
      // Number() rounds as JSON.parse does.
      if (count === 0 || (count > 1 && text.charCodeAt(digits) === ZERO)) return NOT_OURS
      value = Number(text.slice(start, i))
    }
    // A repeated name: JSON.parse keeps the last, but the first may be what the rules refuse
    // (a control character): the full parse decides, as for any other layout. Names that
    // matched the distinct ones expected so far cannot repeat (an earlier mismatch lowered `distinct`).
    if (member >= distinct && into[name] !== undefined) return NOT_OURS
    into[name] = value
    if (text.charCodeAt(i) !== COMMA || i + 1 >= length) return NOT_OURS
    i++
  }
}

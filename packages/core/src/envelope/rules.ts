/**
 * What an attribute may hold, one rule per name, shared by both directions: an
 * envelope is checked against these when it is made (createEnvelope, a foreign
 * CloudEvent sent through a bus) and when it arrives (decodeMessage), so that
 * nothing is sent that a receiver would dead-letter, and nothing is handed to a
 * handler that Omnibus could not have sent. A rule returns what is wrong, or
 * undefined.
 */
type Rule = (value: unknown) => string | undefined

/** A short description of a value for error messages, never the whole of it. */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing'
  if (value === null) return 'null'
  if (typeof value === 'string') {
    if (value.length === 0) return 'an empty string'
    return value.length > 60 ? `${JSON.stringify(value.slice(0, 60))}…` : JSON.stringify(value)
  }
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${value}`
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') return `a ${value.constructor?.name ?? 'null-prototype object'}`
  return `a ${typeof value}`
}

/*
 * CloudEvents strings exclude the control characters U+0000-001F and U+007F-009F,
 * noncharacters, and surrogates not in pairs (spec, "Type System"). Lone
 * surrogates also have no UTF-8 form: sent anyway they would arrive as U+FFFD.
 */
const DISALLOWED = new RegExp(
  '[\\u0000-\\u001F\\u007F-\\u009F\\uFDD0-\\uFDEF\\uFFFE\\uFFFF]' +
    '|[\\uD800-\\uDBFF](?![\\uDC00-\\uDFFF])|(?<![\\uD800-\\uDBFF])[\\uDC00-\\uDFFF]' +
    // U+nFFFE and U+nFFFF of the planes above the first, as surrogate pairs.
    '|[\\uD83F\\uD87F\\uD8BF\\uD8FF\\uD93F\\uD97F\\uD9BF\\uD9FF\\uDA3F\\uDA7F\\uDABF\\uDAFF\\uDB3F\\uDB7F\\uDBBF\\uDBFF][\\uDFFE\\uDFFF]',
)

const DISALLOWED_ALL = new RegExp(DISALLOWED.source, 'g')
const NOT_PRINTABLE_ASCII = /[^\x20-\x7E]/

/** `text` with what CloudEvents strings may not hold replaced by spaces, cut to `max` UTF-16 units. */
export function cleanText(text: string, max: number): string {
  const clean = text.replace(DISALLOWED_ALL, ' ')
  if (clean.length <= max) return clean
  // Not between the halves of a surrogate pair.
  const end = /[\uD800-\uDBFF]/.test(clean[max - 2] ?? '') ? max - 2 : max - 1
  return `${clean.slice(0, end)}…`
}

/** JSON text whose strings hold nothing a CloudEvents string may not: those are written as \\u escapes. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value).replace(
    DISALLOWED_ALL,
    (c) =>
      `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}${c.length > 1 ? `\\u${c.charCodeAt(1).toString(16)}` : ''}`,
  )
}

/** Why `value` is not a CloudEvents string, or undefined. */
function stringProblem(value: unknown, allowEmpty = false): string | undefined {
  if (typeof value !== 'string') return `must be a string, got ${show(value)}`
  if (value.length === 0 && !allowEmpty) return 'must be a non-empty string, got an empty string'
  // Nearly every attribute is printable ASCII: one simple class settles it before the full check.
  if (!NOT_PRINTABLE_ASCII.test(value)) return undefined
  const bad = DISALLOWED.exec(value)
  if (bad) {
    const code = bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')
    return `holds U+${code} at index ${bad.index}, which CloudEvents strings may not contain (control characters, noncharacters, unpaired surrogates)`
  }
  return undefined
}

const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/
const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/** An RFC 3339 timestamp with a real date and time (Date.parse alone takes "March 7, 2024" and Feb 30). */
export function isTimestamp(value: string): boolean {
  // Senders stamp many messages within one millisecond: the last good one is asked about again and again.
  if (value === lastTimestamp) return true
  const m = TIMESTAMP.exec(value)
  if (!m) return false
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as number[]
  const leap = year! % 4 === 0 && (year! % 100 !== 0 || year! % 400 === 0)
  const days = month === 2 && !leap ? 28 : MONTH_DAYS[month! - 1]
  const valid =
    days !== undefined &&
    day! >= 1 &&
    day! <= days &&
    hour! <= 23 &&
    minute! <= 59 &&
    second! <= 60 &&
    (m[7] === undefined || (Number(m[7]) <= 23 && Number(m[8]) <= 59))
  if (valid) lastTimestamp = value
  return valid
}
let lastTimestamp = ''

const timestamp: Rule = (value) =>
  typeof value === 'string' && isTimestamp(value)
    ? undefined
    : `must be an RFC 3339 timestamp such as 2024-03-07T10:00:00Z, got ${show(value)}`

const text: Rule = (value) => stringProblem(value)

const oneOf =
  (...allowed: string[]): Rule =>
  (value) =>
    allowed.includes(value as string) ? undefined : `must be one of ${allowed.join(', ')}, got ${show(value)}`

/** RFC 2046 `type/subtype` with optional parameters. */
const MEDIA_TYPE = /^[\w!#$%&'*+.^`|~-]+\/[\w!#$%&'*+.^`|~-]+\s*(;.*)?$/
/** Media types found good: a process sees a handful, on nearly every message. */
const goodMediaTypes = new Set<string>()
const mediaType: Rule = (value) => {
  if (goodMediaTypes.has(value as string)) return undefined
  const problem =
    stringProblem(value) ??
    (MEDIA_TYPE.test(value as string)
      ? undefined
      : `must be a media type such as application/json, got ${show(value)}`)
  if (problem === undefined && goodMediaTypes.size < 64) goodMediaTypes.add(value as string)
  return problem
}

const absoluteUri: Rule = (value) =>
  stringProblem(value) ??
  (URL.canParse(value as string) ? undefined : `must be an absolute URI, got ${show(value)}`)

/** W3C Trace Context: version-traceid-parentid-flags, lower-case hex; version ff is invalid. */
const TRACEPARENT = /^(?!ff)[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/
const traceparent: Rule = (value) =>
  typeof value === 'string' && TRACEPARENT.test(value)
    ? undefined
    : `must be a W3C traceparent such as 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01, got ${show(value)}`

/** Reply queues are named by the asking bus (bus/query.ts); any other value would send answers elsewhere. */
export const REPLY_PREFIX = 'omnibus.reply.'
const replyTo: Rule = (value) =>
  stringProblem(value) ??
  ((value as string).startsWith(REPLY_PREFIX) && (value as string).length > REPLY_PREFIX.length
    ? undefined
    : `must name an Omnibus reply queue (${REPLY_PREFIX}…), got ${show(value)}`)

const integer =
  (min: number): Rule =>
  (value) =>
    Number.isInteger(value) && (value as number) >= min && (value as number) <= INT_MAX
      ? undefined
      : `must be an integer from ${min} to ${INT_MAX}, got ${show(value)}`

/** The CloudEvents Integer: a signed 32-bit value. */
export const INT_MIN = -(2 ** 31)
export const INT_MAX = 2 ** 31 - 1

/** The core attributes' rules. */
const CORE: Record<string, Rule> = {
  specversion: (value) => (value === '1.0' ? undefined : `must be "1.0", got ${show(value)}`),
  id: text,
  source: text,
  type: text,
  subject: text,
  time: timestamp,
  datacontenttype: mediaType,
  dataschema: absoluteUri,
}

/**
 * Extensions Omnibus writes and reads itself: their values must be ones it could
 * have written. A user's `extensions` may not set them.
 */
const OWN: Record<string, Rule> = {
  messagekind: oneOf('event', 'command', 'query'),
  partitionkey: text,
  correlationid: text,
  causationid: text,
  traceparent,
  tracestate: (value) => stringProblem(value, true),
  replyto: replyTo,
  deadline: timestamp,
  replystatus: oneOf('ok', 'error'),
  dlreason: (value) => stringProblem(value, true),
  dlattempts: integer(0),
  dlchannel: text,
  dlgroup: text,
  dltime: timestamp,
  dlheaders: text,
  dlsize: integer(0),
}

// No prototype: a received attribute named `valueOf` or `constructor` is an extension, not Object's method.
const RULES: Record<string, Rule> = Object.assign(Object.create(null), CORE, OWN)

/** The CloudEvents core attribute names, plus the data members of the JSON form. */
export const CORE_NAMES: ReadonlySet<string> = new Set([...Object.keys(CORE), 'data', 'data_base64'])
/** Omnibus's own extension names. */
export const OWN_NAMES: ReadonlySet<string> = new Set(Object.keys(OWN))

/** The spec's MUST for extension names; longer than 20 characters breaks only a SHOULD. */
export const EXTENSION_NAME = /^[a-z0-9]+$/
export const EXTENSION_NAME_MAX = 20

/** Why `value` cannot be a CloudEvents extension value (string, boolean, 32-bit integer), or undefined. */
export function extensionValueProblem(value: unknown): string | undefined {
  if (typeof value === 'string') return stringProblem(value, true)
  if (typeof value === 'boolean') return undefined
  if (typeof value === 'number') {
    return Number.isInteger(value) && value >= INT_MIN && value <= INT_MAX
      ? undefined
      : `must be an integer from ${INT_MIN} to ${INT_MAX} (a CloudEvents Integer), got ${show(value)}`
  }
  return `must be a string, boolean or 32-bit integer, got ${show(value)}`
}

/** Why attribute `name` cannot hold `value`; any extension name (the caller decides on length). */
export function attributeProblem(name: string, value: unknown): string | undefined {
  const rule = RULES[name]
  if (rule !== undefined) return rule(value)
  if (!EXTENSION_NAME.test(name)) {
    return 'is not a valid attribute name: CloudEvents names are lower-case a-z and 0-9'
  }
  return extensionValueProblem(value)
}

/** The candidate closest to `name` (case, then edit distance), for "did you mean" hints. */
export function nearest(name: string, candidates: Iterable<string>): string | undefined {
  const lower = name.toLowerCase()
  let best: string | undefined
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1
  for (const candidate of candidates) {
    if (candidate === lower) return candidate
    const distance = editDistance(lower, candidate)
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 8) return Number.POSITIVE_INFINITY
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      )
    }
    previous = current
  }
  return previous[b.length]!
}

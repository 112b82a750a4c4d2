import { isUtf8 } from 'node:buffer'
import { errorMessage } from '../errors.js'
import { structuredBytes, utf8Bytes } from './body-writer.js'
import { LazyData } from './data.js'
import { dataFailure, dataJson, Encoded, encoded } from './encoded.js'
import { asCloudEvent, type Envelope, receivedBlank, sealReceived } from './envelope.js'
import { NOT_OURS, scanHead } from './head-scanner.js'
import { attributeProblem, EXTENSION_NAME_MAX, OWN_NAMES } from './rules.js'

/**
 * CloudEvents ↔ bytes. Adapters own their broker's headers, but the two content
 * modes are the same everywhere, so they are written once here:
 * - structured: the whole event as `application/cloudevents+json` in the body;
 * - binary: attributes as prefixed headers (`ce_`, `cloudEvents_`, `ce-`), data as the body.
 */
export const STRUCTURED_CONTENT_TYPE = 'application/cloudevents+json'

/**
 * Binary mode carries every attribute as a string. So that integer and boolean
 * extensions come back with their type, the encoder names them in this one
 * extra header (`name=i,other=b`), which other CloudEvents SDKs simply ignore.
 */
export const TYPES_HEADER = 'omnibus-types'

/**
 * A header as a broker hands it over: text, bytes (decoded here, so that invalid
 * UTF-8 in an attribute is caught rather than turned into U+FFFD), or a typed
 * value where the broker has types (AMQP), taken as that CloudEvents type.
 */
export type HeaderValue = string | Uint8Array | number | boolean | undefined

/** What an adapter hands to the decoder: the body and its headers. */
export interface WireMessage {
  body: Uint8Array
  headers: Readonly<Record<string, HeaderValue>>
  /** The message's content type, where the broker keeps it apart from the headers. */
  contentType?: string | undefined
}

/** A message that is not a CloudEvent, kept as it arrived, with the reason. */
export interface MalformedMessage {
  reason: string
  body: Uint8Array
  headers: Record<string, string>
}

export type Decoded =
  | { event: Envelope; malformed?: undefined }
  | { event?: undefined; malformed: MalformedMessage }

const textDecoder = new TextDecoder('utf-8', { fatal: true })
/**
 * A structured body (or a binary header) to text, checked and decoded in one pass (isUtf8 then
 * toString read it twice). A byte order mark is kept, as JSON.parse then refuses it (and toString keeps it).
 */
const structuredDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** Most entries a look-up table below keeps: senders may use any names and content types, a process only a few. */
const MEMO_LIMIT = 256

/** Answers for content types seen before: every received message asks, and nearly all ask the same. */
const jsonTypes = new Map<string, boolean>()

function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false
  let json = jsonTypes.get(contentType)
  if (json === undefined) {
    const base = contentType.split(';', 1)[0]!.trim().toLowerCase()
    json = base === 'application/json' || base === 'text/json' || base.endsWith('+json')
    if (jsonTypes.size < MEMO_LIMIT) jsonTypes.set(contentType, json)
  }
  return json
}

function isText(contentType: string | undefined): boolean {
  return contentType?.toLowerCase().startsWith('text/') ?? false
}

function dataBytes(event: Envelope): Uint8Array {
  const data = event.data
  if (data === undefined || data === null) return new Uint8Array(0)
  if (data instanceof Uint8Array) return data
  if (typeof data === 'string' && !isJson(event.datacontenttype)) return utf8Bytes(data)
  return utf8Bytes(dataJson(event, encoded(event))!)
}

/** JSON texts of attribute values met before: a sender's type, source and content type repeat. */
const jsonTexts = new Map<string, string>()
const JSON_TEXT_MAX = 256

function jsonText(value: string): string {
  let text = jsonTexts.get(value)
  if (text === undefined) {
    text = JSON.stringify(value)
    if (jsonTexts.size < MEMO_LIMIT && value.length <= JSON_TEXT_MAX) jsonTexts.set(value, text)
  }
  return text
}

/**
 * JSON.stringify's text of the head of an envelope createEnvelope made from a
 * type, a source and data alone (Encoded.templated), written from a template in
 * its attribute order: its id (a UUID), time (RFC 3339, checked) and kind need
 * no escaping, and the JSON of its type, source and content type is remembered.
 * Half the cost of JSON.stringify, which checks every character.
 */
function templatedHead(event: Envelope): string {
  const head = `{"specversion":"1.0","id":"${event.id}","source":${jsonText(event.source)},"type":${jsonText(event.type)},"time":"${event.time!}","messagekind":"${event.messagekind as string}"`
  const contentType = event.datacontenttype
  return contentType === undefined ? `${head}}` : `${head},"datacontenttype":${jsonText(contentType)}}`
}

/**
 * The attributes other than data as one JSON object, the head of the structured
 * form. (Built as an object for JSON.stringify: V8's fast path for plain objects
 * beats writing the members by hand, escaping checks and all; only a fixed
 * template, templatedHead, beats it.)
 */
function structuredHead(event: Envelope, entry: Encoded): string {
  if (entry.templated) return templatedHead(event)
  if (entry.attributes !== undefined) return JSON.stringify(entry.attributes)
  const attributes: Record<string, unknown> = {}
  for (const key in event) {
    // The names first: reading data_base64 would base64-encode binary data only to skip it.
    if (key === 'data' || key === 'data_base64') continue
    const value = event[key]
    if (value !== undefined) attributes[key] = value
  }
  return JSON.stringify(attributes)
}

/** The member name the data goes under in the structured form. */
const dataMember = (event: Envelope) => (event.data instanceof Uint8Array ? 'data_base64' : 'data')

/** The event as one JSON document (structured mode). */
export function encodeStructured(event: Envelope): Buffer {
  const entry = encoded(event)
  // Handed over by the size check just before; not kept after.
  const head = entry.head ?? structuredHead(event, entry)
  entry.head = undefined
  const data = dataJson(event, entry)
  return data === undefined ? utf8Bytes(head) : structuredBytes(head, dataMember(event), data)
}

/**
 * The header names of one binary prefix, both ways: the attribute name of each
 * header name received so far (null: not one of this prefix's), and the header
 * name of each attribute sent. Names repeat from message to message, so a
 * message's headers cost a look-up each, not a slice, concatenation or
 * lower-casing each.
 */
interface PrefixNames {
  readonly specversion: string
  readonly lowerSpecversion: string
  readonly names: Map<string, string | null>
  readonly headerNames: Map<string, string>
}

const prefixNames = new Map<string, PrefixNames>()

function namesOf(prefix: string): PrefixNames {
  let entry = prefixNames.get(prefix)
  if (entry === undefined) {
    const specversion = `${prefix}specversion`
    entry = {
      specversion,
      lowerSpecversion: specversion.toLowerCase(),
      names: new Map(),
      headerNames: new Map(),
    }
    if (prefixNames.size < MEMO_LIMIT) prefixNames.set(prefix, entry)
  }
  return entry
}

/** The header that carries attribute `key` under `prefix`. */
function headerName(key: string, prefix: string, headerNames: Map<string, string>): string {
  let name = headerNames.get(key)
  if (name === undefined) {
    name = prefix + key
    if (headerNames.size < MEMO_LIMIT) headerNames.set(key, name)
  }
  return name
}

/** The event as prefixed string headers plus the data as body (binary mode). */
export function encodeBinary(
  event: Envelope,
  prefix: string,
): { headers: Record<string, string>; body: Uint8Array; contentType: string | undefined } {
  const headers: Record<string, string> = {}
  const { headerNames } = namesOf(prefix)
  let types = ''
  for (const key in event) {
    // The names first: reading data_base64 would base64-encode binary data only to skip it.
    if (key === 'data' || key === 'data_base64' || key === 'datacontenttype') continue
    const value = event[key]
    if (value === undefined) continue
    headers[headerName(key, prefix, headerNames)] = typeof value === 'string' ? value : String(value)
    if (typeof value === 'number') types += `${types ? ',' : ''}${key}=i`
    else if (typeof value === 'boolean') types += `${types ? ',' : ''}${key}=b`
  }
  if (types) headers[TYPES_HEADER] = types
  return { headers, body: dataBytes(event), contentType: event.datacontenttype }
}

/** A header as text, for content types and for the headers kept with a malformed message. */
function headerText(value: HeaderValue): string | undefined {
  if (value === undefined || typeof value === 'string') return value
  // A view, not a copy, of the header's bytes.
  return value instanceof Uint8Array
    ? Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8')
    : String(value)
}

function malformedMessage(reason: string, message: WireMessage): MalformedMessage {
  const headers: Record<string, string> = {}
  for (const [k, v] of Object.entries(message.headers)) {
    const text = headerText(v)
    if (text !== undefined) headers[k] = text
  }
  return { reason, body: message.body, headers }
}

function malformed(reason: string, message: WireMessage): Decoded {
  return { malformed: malformedMessage(reason, message) }
}

/**
 * A received event whose data a read found not to parse, as the malformed message
 * the decoder would have made of it had it parsed the data at once; else undefined.
 */
export function malformedData(event: Envelope): MalformedMessage | undefined {
  const failure = dataFailure(event)
  if (failure === undefined) return undefined
  const message = failure.message as WireMessage
  if (!failure.structured) return malformedMessage(failure.reason, message)
  // What the whole document's parse says; it parses only if it repeats `data` (JSON keeps the last).
  const eager = decodeStructured(message, false)
  return malformedMessage(
    eager.malformed?.reason ?? 'structured CloudEvent has more than one data member',
    message,
  )
}

const missing = (name: string) => `missing required CloudEvents attribute "${name}"`

/**
 * Attributes found valid, by their place in the last messages checked: a sender's
 * messages repeat most of theirs (specversion, source, type, kind, content type),
 * so most of a message's checks are one comparison each. Short values only, so
 * that what is remembered stays small.
 */
const validNames: string[] = []
const validValues: unknown[] = []
const VALID_PLACES = 32
const VALID_VALUE_MAX = 256

/** Extension names longer than the spec's SHOULD that were reported already: once per name and process. */
const longNames = new Set<string>()

/**
 * Why `attributes` cannot make a CloudEvent that Omnibus hands to a handler
 * (a MUST of the spec or a rule of its own extensions broken), or undefined.
 * `warn` hears of what breaks only a SHOULD, once per name.
 */
export function invalidAttributes(
  attributes: Readonly<Record<string, unknown>>,
  warn?: (warning: string) => void,
): string | undefined {
  // The required ones by named loads, not a loop over their names: keyed loads cost more than the rest of a valid message's check.
  if (attributes.specversion === undefined) return missing('specversion')
  if (attributes.id === undefined) return missing('id')
  if (attributes.source === undefined) return missing('source')
  if (attributes.type === undefined) return missing('type')
  let place = 0
  for (const name in attributes) {
    if (name === 'data') continue
    const value = attributes[name]
    // The rules are a function of name and value: one found valid in this place of the last message is valid.
    if (validNames[place] === name && validValues[place] === value) {
      place++
      continue
    }
    const problem = attributeProblem(name, value)
    if (problem !== undefined) return `attribute "${name}" ${problem}`
    if (name.length > EXTENSION_NAME_MAX) {
      if (!OWN_NAMES.has(name) && warn && !longNames.has(name)) {
        if (longNames.size < MEMO_LIMIT) longNames.add(name)
        warn(
          `extension name "${name.slice(0, 60)}${name.length > 60 ? '…' : ''}" is ${name.length} characters, ` +
            `over the ${EXTENSION_NAME_MAX} that CloudEvents producers should keep to; accepted`,
        )
      }
    } else if (place < VALID_PLACES && (typeof value !== 'string' || value.length <= VALID_VALUE_MAX)) {
      validNames[place] = name
      validValues[place] = value
    }
    place++
  }
  return undefined
}

/** What checkReceived heard of a SHOULD broken; one object for every message (no closure per message). */
const received: { warning: string | undefined; note: (warning: string) => void } = {
  warning: undefined,
  note: (warning) => {
    received.warning = warning
  },
}

/** invalidAttributes of received attributes; a warning, if any, left in `received.warning`. */
function checkReceived(attributes: Readonly<Record<string, unknown>>): string | undefined {
  received.warning = undefined
  return invalidAttributes(attributes, received.note)
}

/**
 * The event of valid `attributes`; `lazy`: its JSON data, to parse when first read,
 * and then `attributes` is an object of receivedBlank(), sealed into the event.
 */
function finish(attributes: Record<string, unknown>, message: WireMessage, lazy?: LazyData): Decoded {
  const invalid = checkReceived(attributes)
  const warning = received.warning
  if (invalid !== undefined) return malformed(invalid, message)
  if (warning === undefined && lazy === undefined) return { event: asCloudEvent(attributes) }
  const entry = new Encoded(undefined, undefined)
  entry.warning = warning
  if (lazy === undefined) return { event: asCloudEvent(attributes, entry) }
  entry.lazy = lazy
  return { event: sealReceived(attributes, entry) }
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

const OPEN_OBJECT = 0x7b
const CLOSE_OBJECT = 0x7d
const OPEN_ARRAY = 0x5b
const CLOSE_ARRAY = 0x5d

/**
 * A structured document whose data is its last member, an object or array, as
 * Omnibus writes them (`{…attributes,"data":{…}}`): the attributes read now
 * (scanHead), the data when first read. Undefined (parse it all now) for any
 * other layout.
 *
 * Why this is the eager decoder's answer: scanHead reads valid attributes as
 * JSON.parse would, up to the first data member. If the data member is not
 * last, what follows it ends in `}` only if a later member is an object or
 * array: an attribute the eager decoder calls malformed too; the data text then
 * is not one JSON value, and its parse fails. So a parse that succeeds read
 * exactly the eager decoder's data and attributes, and one that fails found a
 * message that is malformed either way (or that repeats `data`, which JSON
 * leaves undefined).
 */
function lazyStructured(text: string, message: WireMessage): Decoded | undefined {
  const event = receivedBlank()
  const start = scanHead(text, event)
  if (start === NOT_OURS) return undefined
  const end = text.length - 1
  const open = text.charCodeAt(start)
  const close = text.charCodeAt(end - 1)
  if (
    text.charCodeAt(end) !== CLOSE_OBJECT ||
    end - 1 <= start ||
    !((open === OPEN_OBJECT && close === CLOSE_OBJECT) || (open === OPEN_ARRAY && close === CLOSE_ARRAY))
  )
    return undefined
  const invalid = checkReceived(event)
  const warning = received.warning
  // What is wrong, JSON.parse and the eager decoder say (scanHead takes control characters JSON refuses).
  if (invalid !== undefined) return undefined
  const entry = new Encoded(undefined, undefined)
  entry.warning = warning
  entry.lazy = new LazyData(text.slice(start, end), undefined, message, true)
  return { event: sealReceived(event, entry) }
}

function decodeStructured(message: WireMessage, lazy = true): Decoded {
  // Invalid bytes inside a JSON string would otherwise parse, as U+FFFD.
  let text: string
  try {
    text = structuredDecoder.decode(message.body)
  } catch {
    return malformed('structured CloudEvent body is not valid UTF-8', message)
  }
  if (lazy) {
    const decoded = lazyStructured(text, message)
    if (decoded !== undefined) return decoded
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    return malformed(`structured CloudEvent body is not JSON: ${errorMessage(error)}`, message)
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return malformed('structured CloudEvent body is not a JSON object', message)
  }
  const attributes = parsed as Record<string, unknown>
  // The JSON format reads a null attribute as an absent one.
  for (const name in attributes) if (attributes[name] === null && name !== 'data') delete attributes[name]
  const base64 = attributes.data_base64
  if (base64 !== undefined) {
    if (attributes.data !== undefined)
      return malformed('structured CloudEvent has both data and data_base64', message)
    if (typeof base64 !== 'string' || !BASE64.test(base64)) {
      return malformed('structured CloudEvent data_base64 is not base64 text', message)
    }
    attributes.data = Buffer.from(base64, 'base64')
    delete attributes.data_base64
  }
  return finish(attributes, message)
}

/** The attribute a header names under `prefix` (any case), or null. */
function attributeName(key: string, prefix: string, names: Map<string, string | null>): string | null {
  let name = names.get(key)
  if (name === undefined) {
    const plen = prefix.length
    // Senders mostly keep the prefix's case; compare case-insensitively only when they did not.
    const ours =
      key.length > plen &&
      (key.startsWith(prefix) || key.slice(0, plen).toLowerCase() === prefix.toLowerCase())
    name = ours ? key.slice(plen).toLowerCase() : null
    if (names.size < MEMO_LIMIT) names.set(key, name)
  }
  return name
}

/** The last text of one header sent as bytes, and the bytes it came from (a copy: clients reuse their buffers). */
interface SeenValue {
  bytes: Uint8Array | undefined
  text: string
  /** The value differed from the one before twice running (an id, a time): decoded, not compared, from then on. */
  volatile: boolean
  changed: boolean
}

/** Longest header value compared byte by byte; longer ones are decoded every time. */
const SEEN_BYTES_MAX = 128

/** SeenValue by header name: a sender repeats its specversion, source, type and kind on every message. */
const seenValues = new Map<string, SeenValue>()

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => {
  const n = a.length
  if (b.length !== n) return false
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false
  return true
}

/**
 * A header's bytes as text, checked as UTF-8 (throws if they are not). Bytes equal to the last
 * ones under that name give the last text: a comparison of a few bytes in place of a decoder
 * call (about 70-90 ns each, five of binary mode's seven headers, on Kafka's bytes).
 */
function headerBytesText(key: string, value: Uint8Array): string {
  let seen = seenValues.get(key)
  if (seen !== undefined && seen.bytes !== undefined && sameBytes(seen.bytes, value)) {
    seen.changed = false
    return seen.text
  }
  const text = structuredDecoder.decode(value)
  if (value.length > SEEN_BYTES_MAX) return text
  if (seen === undefined) {
    if (seenValues.size >= MEMO_LIMIT) return text
    seen = { bytes: undefined, text, volatile: false, changed: false }
    seenValues.set(key, seen)
  } else {
    if (seen.volatile) return text
    if (seen.changed) {
      seen.volatile = true
      seen.bytes = undefined
      return text
    }
    seen.changed = true
  }
  // A copy (Buffer#slice would be a view of the client's buffer).
  seen.bytes = new Uint8Array(value)
  seen.text = text
  return text
}

function decodeBinary(message: WireMessage, prefix: string, contentType: string | undefined): Decoded {
  const lazyJson = message.body.byteLength > 0 && isJson(contentType)
  // JSON data makes a received event: its attributes are set on one from the start (see finish).
  const attributes: Record<string, unknown> = lazyJson ? receivedBlank() : {}
  const { names } = namesOf(prefix)
  const headers = message.headers
  for (const key in headers) {
    const value = headers[key]
    if (value === undefined) continue
    const name = attributeName(key, prefix, names)
    if (name === null) continue
    if (value instanceof Uint8Array) {
      // Checked and decoded in one pass (half the cost of isUtf8, a Buffer view and toString per header).
      try {
        attributes[name] = headerBytesText(key, value)
      } catch {
        return malformed(`attribute "${name}" (header ${key}) is not valid UTF-8`, message)
      }
    } else attributes[name] = value
  }
  const types = headerText(headers[TYPES_HEADER])
  if (types) {
    for (const pair of types.split(',')) {
      const [name, tag] = pair.split('=')
      const raw = name === undefined ? undefined : attributes[name]
      if (typeof raw !== 'string') continue
      if (tag === 'i' && /^-?\d+$/.test(raw)) attributes[name!] = Number(raw)
      else if (tag === 'b') attributes[name!] = raw === 'true'
    }
  }
  if (contentType !== undefined) attributes.datacontenttype = contentType
  if (message.body.byteLength > 0) {
    if (lazyJson) {
      if (!isUtf8(message.body))
        return malformed(
          `data does not match its content type ${contentType}: the body is not valid UTF-8`,
          message,
        )
      // Parsed when a handler first reads it (LazyData).
      return finish(attributes, message, new LazyData(message.body, contentType, message))
    }
    try {
      if (isText(contentType)) attributes.data = textDecoder.decode(message.body)
      else attributes.data = Buffer.from(message.body)
    } catch (error) {
      return malformed(`data does not match its content type ${contentType}: ${errorMessage(error)}`, message)
    }
  }
  return finish(attributes, message)
}

function findHeader(headers: Readonly<Record<string, HeaderValue>>, name: string): string | undefined {
  const direct = headers[name]
  if (direct !== undefined) return headerText(direct)
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return headerText(value)
  return undefined
}

/**
 * Decodes a message in either mode: structured when the content type says
 * `application/cloudevents+json`, binary when a prefixed `specversion` header is
 * present (any of `prefixes`, first match wins). Never throws: what is not a
 * CloudEvent comes back as `malformed` with the reason.
 */
export function decodeMessage(message: WireMessage, prefixes: readonly string[]): Decoded {
  const contentType = message.contentType ?? findHeader(message.headers, 'content-type')
  if (contentType?.toLowerCase().startsWith(STRUCTURED_CONTENT_TYPE)) return decodeStructured(message)
  for (const prefix of prefixes) {
    // The prefix as given (`cloudEvents_specversion`) is what senders nearly always write; any case is accepted.
    const { specversion, lowerSpecversion } = namesOf(prefix)
    if (
      message.headers[specversion] !== undefined ||
      findHeader(message.headers, lowerSpecversion) !== undefined
    ) {
      return decodeBinary(message, prefix, contentType)
    }
  }
  // No content type and no headers: a structured body is the only thing it could be.
  if (contentType === undefined && message.body[0] === 0x7b) return decodeStructured(message)
  return malformed(
    `neither a structured CloudEvent (content type ${STRUCTURED_CONTENT_TYPE}) nor a binary one ` +
      `(no ${prefixes.map((p) => `${p}specversion`).join(' / ')} header)`,
    message,
  )
}

/**
 * The size a transport should check against its limit, for structured mode: the
 * byte length of what encodeStructured makes, counted without making it (a
 * transport sending binary mode never needs the structured bytes).
 */
export function structuredSize(event: Envelope): number {
  const entry = encoded(event)
  if (entry.size !== undefined) return entry.size
  const head = structuredHead(event, entry)
  const data = dataJson(event, entry)
  entry.head = head
  // `{…}` + `,"data":` + data + `}`, the head's closing brace replaced.
  entry.size =
    Buffer.byteLength(head, 'utf8') +
    (data === undefined
      ? 0
      : (head.length > 2 ? 1 : 0) + dataMember(event).length + 3 + Buffer.byteLength(data, 'utf8'))
  return entry.size
}

/**
 * An upper bound of structuredSize, counted without writing any JSON: each UTF-16
 * unit of an attribute is at most 6 bytes in JSON (`\\uXXXX`), each of the data's
 * JSON text at most 3 in UTF-8, a number at most 24 characters. A size check whose
 * limit is above the bound needs no exact count, and its event no head text.
 */
export function structuredSizeBound(event: Envelope): number {
  const entry = encoded(event)
  if (entry.size !== undefined) return entry.size
  const bytes = event.data
  // Bytes go as base64, whose length is known without writing it (a binary-mode transport never needs it).
  const dataLength =
    bytes instanceof Uint8Array && entry.json === undefined
      ? 2 + 4 * Math.ceil(bytes.byteLength / 3)
      : dataJson(event, entry)?.length
  let bound = dataLength === undefined ? 2 : 2 + ',"data_base64":'.length + 3 * dataLength
  const attributes: Readonly<Record<string, unknown>> = entry.attributes ?? event
  for (const key in attributes) {
    if (key === 'data' || key === 'data_base64') continue
    const value = attributes[key]
    if (value === undefined) continue
    // `,"key":` then the value.
    bound += 6 * key.length + 4
    if (typeof value === 'string') bound += 6 * value.length + 2
    else if (typeof value === 'number' || typeof value === 'boolean') bound += 24
    else return Number.POSITIVE_INFINITY
  }
  return bound
}

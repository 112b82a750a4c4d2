import { CloudEvent, type CloudEventV1 } from 'cloudevents'
import { EnvelopeError } from '../errors.js'
import { dataToJson } from './data.js'
import { attachEncoded, Encoded, encoded, readLazyData } from './encoded.js'
import {
  attributeProblem,
  CORE_NAMES,
  EXTENSION_NAME,
  EXTENSION_NAME_MAX,
  extensionValueProblem,
  nearest,
  OWN_NAMES,
  show,
} from './rules.js'
import { randomUuid } from './uuid.js'

/** What a message asks of its receivers; carried in the `messagekind` extension. */
export type MessageKind = 'event' | 'command' | 'query'

/** A CloudEvents 1.0 event as Omnibus hands it around. */
export type Envelope<T = unknown> = CloudEventV1<T>

/** Extension attributes Omnibus sets or reads, beyond the CloudEvents core ones. */
export const Ext = {
  kind: 'messagekind',
  partitionKey: 'partitionkey',
  correlationId: 'correlationid',
  causationId: 'causationid',
  replyTo: 'replyto',
  deadline: 'deadline',
  replyStatus: 'replystatus',
  traceparent: 'traceparent',
  tracestate: 'tracestate',
} as const

/** Extension value types the CloudEvents type system allows. */
export type ExtensionValue = string | number | boolean

/** What a caller gives to make an envelope. `type` is required; the rest is optional. */
export interface EnvelopeInput<T = unknown> {
  type: string
  /** Defaults to the bus's source (`urn:omnibus:<service>`) when sent through a bus. */
  source?: string
  /** Defaults to a random UUID. */
  id?: string
  subject?: string
  /** Defaults to now. */
  time?: string | Date
  /** Defaults to application/json for objects, application/octet-stream for bytes, text/plain for strings. */
  datacontenttype?: string
  dataschema?: string
  data?: T
  /** Ordering key: events with the same key are handled in publish order (where the transport can). */
  partitionkey?: string
  correlationid?: string
  causationid?: string
  traceparent?: string
  tracestate?: string
  /** Any further extension attributes: lower-case a-z and 0-9 names, string, integer or boolean values. */
  extensions?: Record<string, ExtensionValue>
}

/**
 * A whole CloudEvent as a bus method takes it, spelled out without the CloudEvent
 * type's index signature: with it, any misspelt field of an object literal
 * (`correlationId`) would compile, matched by the index signature.
 */
export interface CloudEventInput<T = unknown> {
  readonly specversion: string
  readonly id: string
  readonly source: string
  readonly type: string
  readonly subject?: string
  readonly time?: string
  readonly datacontenttype?: string
  readonly dataschema?: string
  readonly data?: T
  readonly data_base64?: string
  readonly messagekind?: unknown
  readonly partitionkey?: unknown
  readonly correlationid?: unknown
  readonly causationid?: unknown
  readonly traceparent?: unknown
  readonly tracestate?: unknown
}

/** What the bus's send methods take: fields to make an envelope from, or a whole CloudEvent. */
export type SendInput<T = unknown> = EnvelopeInput<T> | CloudEventInput<T>

/** The fields an EnvelopeInput may have; anything else is a typo, refused with the nearest name. */
export const INPUT_FIELDS: ReadonlySet<string> = new Set([
  'type',
  'source',
  'id',
  'subject',
  'time',
  'datacontenttype',
  'dataschema',
  'data',
  'partitionkey',
  'correlationid',
  'causationid',
  'traceparent',
  'tracestate',
  'extensions',
])

/** The checked value of input field `field`, or an EnvelopeError naming it. */
export function checked<V>(field: string, value: V): V {
  const problem = attributeProblem(field, value)
  if (problem !== undefined) throw new EnvelopeError(field, problem)
  return value
}

/** String#isWellFormed (Node 20+; the compile target's lib predates it). */
const wellFormed = (text: string): boolean => (text as unknown as { isWellFormed(): boolean }).isWellFormed()

/** The default content type for `data`, and its JSON text when it is JSON (kept for encoding later). */
function checkData(data: unknown): { contentType?: string; json?: string } {
  if (data === undefined || data === null) return {}
  if (data instanceof Uint8Array) return { contentType: 'application/octet-stream' }
  if (typeof data === 'string') {
    // Sent as UTF-8 text: a lone surrogate has no UTF-8 form and would arrive as U+FFFD.
    if (!wellFormed(data))
      throw new EnvelopeError('data', 'is a string with unpaired surrogates, which UTF-8 cannot carry')
    return { contentType: 'text/plain; charset=utf-8' }
  }
  return { contentType: 'application/json', json: dataToJson(data) }
}

function checkInputKeys(input: object): void {
  for (const key in input) {
    if (INPUT_FIELDS.has(key)) continue
    const hint = nearest(key, INPUT_FIELDS)
    const other = OWN_NAMES.has(key) || !CORE_NAMES.has(key) ? ' (other extensions go in `extensions`)' : ''
    throw new EnvelopeError(
      key,
      `is not an envelope field${hint === undefined ? '' : `; did you mean "${hint}"?`}${other}`,
    )
  }
}

function checkTime(time: string | Date | undefined): string | undefined {
  if (time instanceof Date) {
    if (Number.isNaN(time.getTime())) throw new EnvelopeError('time', 'is an invalid Date')
    return time.toISOString()
  }
  return time === undefined ? undefined : checked('time', time)
}

/**
 * An empty object with the CloudEvent prototype, so envelopes are `instanceof
 * CloudEvent` and have its methods. The class's constructor would copy, re-check
 * and delete its way through attributes that were already validated; on the hot
 * path the object is built directly (`new` gives it a stable shape, faster than Object.create).
 */
const Blank = function Blank() {} as unknown as new () => Record<string, unknown>
Blank.prototype = CloudEvent.prototype

/** Freezes an object made by `new Blank()` into an envelope; `cache` holds encodings made already. */
function seal<T>(event: Record<string, unknown>, cache: Encoded | undefined): Envelope<T> {
  const data = event.data
  if (data instanceof Uint8Array && event.data_base64 === undefined) {
    // As the constructor does, offer data_base64 beside binary data (for CloudEvent#toJSON).
    Object.defineProperty(event, 'data_base64', {
      get: () => Buffer.from(data).toString('base64'),
      enumerable: true,
    })
  }
  if (cache !== undefined) attachEncoded(event, cache)
  return Object.freeze(event) as Envelope<T>
}

/**
 * A frozen CloudEvent from attributes that were already validated. With `cache`,
 * its encodings are remembered on the envelope itself (for envelopes that will be
 * sent); without, they are made on demand (decoded envelopes are rarely re-sent).
 * `data`, when given, is set after the attributes.
 */
export function asCloudEvent<T>(
  attributes: Readonly<Record<string, unknown>>,
  cache?: Encoded,
  data?: unknown,
): Envelope<T> {
  const event = Object.assign(new Blank(), attributes)
  if (data !== undefined) event.data = data
  return seal(event, cache)
}

/**
 * Received events: CloudEvents whose inspection (console.log, test failures) shows
 * data that does not parse as such instead of throwing, as reading it does.
 */
const Received = function Received() {} as unknown as new () => Record<string, unknown>
Received.prototype = Object.create(CloudEvent.prototype, {
  [Symbol.for('nodejs.util.inspect.custom')]: {
    value(this: Envelope): string {
      try {
        return this.toString()
      } catch (error) {
        const shown: Record<string, unknown> = {}
        for (const key in this) if (key !== 'data') shown[key] = this[key]
        shown.data = `<${error instanceof Error ? error.message : String(error)}>`
        return JSON.stringify(shown)
      }
    },
  },
})

/** A received event's `data`: an enumerable getter, so spreads, JSON and Object.keys see it as before. */
const LAZY_DATA: PropertyDescriptor = { get: readLazyData, enumerable: true }

/** An empty received event, for a decoder to set validated attributes on and then seal with sealReceived. */
export const receivedBlank = (): Record<string, unknown> => new Received()

/**
 * Freezes an object made by receivedBlank, holding validated attributes, into a
 * received event whose JSON data (`entry.lazy`) is parsed when first read; see LazyData.
 */
export function sealReceived<T>(event: Record<string, unknown>, entry: Encoded): Envelope<T> {
  Object.defineProperty(event, 'data', LAZY_DATA)
  attachEncoded(event, entry)
  return Object.freeze(event) as Envelope<T>
}

let lastMs = 0
let lastIso = ''
/** Now as an RFC 3339 timestamp; many envelopes are made within one millisecond. */
function nowIso(): string {
  const ms = Date.now()
  if (ms !== lastMs) {
    lastMs = ms
    lastIso = new Date(ms).toISOString()
  }
  return lastIso
}

function checkExtension(name: string, value: unknown): void {
  const field = `extensions.${name}`
  if (CORE_NAMES.has(name)) throw new EnvelopeError(field, 'is a CloudEvents core attribute; set it directly')
  if (OWN_NAMES.has(name)) {
    const how = INPUT_FIELDS.has(name) ? `set it as the \`${name}\` field` : 'Omnibus sets it itself'
    throw new EnvelopeError(field, `is an attribute of Omnibus's own; ${how}`)
  }
  if (!EXTENSION_NAME.test(name) || name.length > EXTENSION_NAME_MAX) {
    throw new EnvelopeError(
      field,
      `extension names must be 1-${EXTENSION_NAME_MAX} characters of lower-case a-z and 0-9 (CloudEvents 1.0)`,
    )
  }
  const problem = extensionValueProblem(value)
  if (problem !== undefined) throw new EnvelopeError(field, problem)
}

/**
 * Builds a CloudEvents 1.0 envelope of the given kind. Throws EnvelopeError naming
 * the field when the input cannot make a valid CloudEvent.
 */
export function createEnvelope<T>(
  kind: MessageKind,
  input: EnvelopeInput<T>,
  defaultSource?: string,
): Envelope<T> {
  return createEnvelopeWith(kind, input, defaultSource, undefined)
}

/** Nothing a sender could give: the first type and source are always checked. */
const UNCHECKED = Symbol('unchecked')
/** The last type and source found valid: a sender makes many messages of one type from one source. */
let validType: unknown = UNCHECKED
let validSource: unknown = UNCHECKED

/**
 * createEnvelope for Omnibus itself, which may also set its own extensions
 * (`replystatus`, `dlreason`, …) that users' `extensions` may not; they are checked all the same.
 */
export function createEnvelopeWith<T>(
  kind: MessageKind,
  input: EnvelopeInput<T>,
  defaultSource: string | undefined,
  own: Readonly<Record<string, ExtensionValue>> | undefined,
): Envelope<T> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new EnvelopeError('input', `must be an object with at least a type, got ${show(input)}`)
  }
  checkInputKeys(input)
  if (input.type !== validType) validType = checked('type', input.type)
  const source = input.source ?? defaultSource
  if (source !== validSource) validSource = checked('source', source)
  const time = checkTime(input.time)
  const { contentType, json } = checkData(input.data)
  const datacontenttype = input.datacontenttype ?? contentType
  const extensions = input.extensions
  if (
    input.id === undefined &&
    input.subject === undefined &&
    input.dataschema === undefined &&
    input.partitionkey === undefined &&
    input.correlationid === undefined &&
    input.causationid === undefined &&
    input.traceparent === undefined &&
    input.tracestate === undefined &&
    extensions === undefined &&
    own === undefined
  ) {
    // A type, a source and data, as most messages are: the envelope is built directly, in the
    // order below, and its structured head is written from a template (binding.ts, templatedHead).
    const event = new Blank()
    event.specversion = '1.0'
    // A flat string (see uuid.ts): every encoding writes it.
    event.id = randomUuid()
    event.source = source
    event.type = input.type
    event.time = time ?? nowIso()
    event.messagekind = kind
    if (datacontenttype !== undefined) event.datacontenttype = checked('datacontenttype', datacontenttype)
    if (input.data !== undefined) event.data = input.data
    return seal<T>(event, new Encoded(json, undefined, true, true))
  }
  // The attributes without data, as a plain object: kept for the structured encoding,
  // where JSON.stringify of a plain object is much faster than of the envelope's copy.
  const head: Record<string, unknown> = {
    specversion: '1.0',
    id: input.id === undefined ? randomUuid() : checked('id', input.id),
    source,
    type: input.type,
    time: time ?? nowIso(),
    // Ext.kind written out: a computed name would take the literal off V8's fast path.
    messagekind: kind,
  }
  // Written out, not looped over by name: named loads cost less than keyed ones.
  if (input.subject !== undefined) head.subject = checked('subject', input.subject)
  if (input.dataschema !== undefined) head.dataschema = checked('dataschema', input.dataschema)
  if (datacontenttype !== undefined) head.datacontenttype = checked('datacontenttype', datacontenttype)
  if (input.partitionkey !== undefined) head.partitionkey = checked('partitionkey', input.partitionkey)
  if (input.correlationid !== undefined) head.correlationid = checked('correlationid', input.correlationid)
  if (input.causationid !== undefined) head.causationid = checked('causationid', input.causationid)
  if (input.traceparent !== undefined) head.traceparent = checked('traceparent', input.traceparent)
  if (input.tracestate !== undefined) head.tracestate = checked('tracestate', input.tracestate)
  if (extensions !== undefined) {
    if (extensions === null || typeof extensions !== 'object' || Array.isArray(extensions)) {
      throw new EnvelopeError('extensions', `must be an object of name: value, got ${show(extensions)}`)
    }
    for (const name of Object.keys(extensions)) {
      const value = extensions[name]
      if (value === undefined) continue
      checkExtension(name, value)
      head[name] = value
    }
  }
  if (own !== undefined) for (const name in own) head[name] = checked(name, own[name])
  const event = Object.assign(new Blank(), head)
  if (input.data !== undefined) event.data = input.data
  // Everything the JSON schema would check was checked above.
  return seal<T>(event, new Encoded(json, head, true))
}

/** An event: something happened. Every subscribing group gets it. */
export const createEvent = <T>(input: EnvelopeInput<T> & { source: string }): Envelope<T> =>
  createEnvelope('event', input)
/** A command: a request to act. Exactly one handler group gets it. */
export const createCommand = <T>(input: EnvelopeInput<T> & { source: string }): Envelope<T> =>
  createEnvelope('command', input)
/** A query: a request for data, answered by one handler. */
export const createQuery = <T>(input: EnvelopeInput<T> & { source: string }): Envelope<T> =>
  createEnvelope('query', input)

/** The kind an envelope says it is, or undefined when it carries no valid `messagekind`. */
export function kindOf(envelope: Envelope): MessageKind | undefined {
  const kind = envelope[Ext.kind]
  return kind === 'event' || kind === 'command' || kind === 'query' ? kind : undefined
}

/** A copy of `envelope` with extra or replaced attributes (the original is frozen); they are checked. */
export function withAttributes<T>(envelope: Envelope<T>, attributes: Record<string, unknown>): Envelope<T> {
  for (const name in attributes) {
    const value = attributes[name]
    if (value === undefined || name === 'data' || name === 'data_base64') continue
    const problem =
      attributeProblem(name, value) ??
      (name.length > EXTENSION_NAME_MAX && !OWN_NAMES.has(name)
        ? `extension names must be 1-${EXTENSION_NAME_MAX} characters`
        : undefined)
    if (problem !== undefined) throw new EnvelopeError(name, problem)
  }
  // The same data serialises the same: keep its JSON (and its checked state) when only attributes change.
  const sameData = !('data' in attributes) && !('data_base64' in attributes)
  const entry = encoded(envelope)
  // One plain object of the attributes, in the envelope's order (it serves the structured head too):
  // no spread of the envelope, whose data_base64 getter would encode bytes only to be dropped.
  const head: Record<string, unknown> = {}
  for (const key in envelope) {
    if (key === 'data' || key === 'data_base64') continue
    const value = Object.hasOwn(attributes, key) ? attributes[key] : envelope[key]
    if (value !== undefined) head[key] = value
  }
  for (const key in attributes) {
    const value = attributes[key]
    if (value !== undefined && key !== 'data' && key !== 'data_base64' && !Object.hasOwn(head, key))
      head[key] = value
  }
  const data = 'data' in attributes ? attributes.data : envelope.data
  // The CloudEvent class keeps both data and data_base64 for bytes; give it one.
  const base64 =
    data !== undefined
      ? undefined
      : 'data_base64' in attributes
        ? attributes.data_base64
        : envelope.data_base64
  const event = Object.assign(new Blank(), head)
  if (data !== undefined) event.data = data
  else if (base64 !== undefined) event.data_base64 = base64
  return seal<T>(
    event,
    new Encoded(
      sameData ? entry.json : undefined,
      base64 === undefined ? head : undefined,
      sameData && entry.checked,
    ),
  )
}

/**
 * Checks a CloudEvent made elsewhere (the cloudevents class, a decoded event, a
 * plain object) as createEnvelope checks its input: it may look like one and
 * still not be one (specversion 0.3, an empty id).
 */
function checkForeign(envelope: Readonly<Record<string, unknown>>): void {
  for (const name of ['specversion', 'id', 'source', 'type']) checked(name, envelope[name])
  for (const name in envelope) {
    const value = envelope[name]
    if (value === undefined || name === 'data_base64') continue
    if (name === 'data') {
      checkData(value)
      continue
    }
    checked(name, value)
    if (name.length > EXTENSION_NAME_MAX && !OWN_NAMES.has(name)) {
      throw new EnvelopeError(
        name,
        `extension names must be 1-${EXTENSION_NAME_MAX} characters (CloudEvents 1.0)`,
      )
    }
  }
  // A frozen event cannot change after this check; a plain object could, so it is checked each time.
  if (Object.isFrozen(envelope)) encoded(envelope as Envelope).checked = true
}

/** Turns any CloudEvent-shaped input into an envelope of `kind`, or throws naming the field. */
export function toEnvelope<T>(kind: MessageKind, input: SendInput<T>, defaultSource: string): Envelope<T> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new EnvelopeError('input', `must be an object with at least a type, got ${show(input)}`)
  }
  if (!('specversion' in input) || input.specversion === undefined) {
    return createEnvelope(kind, input as EnvelopeInput<T>, defaultSource)
  }
  const envelope = input as Envelope<T>
  if (!encoded(envelope).checked) checkForeign(envelope)
  const declared = kindOf(envelope)
  if (declared !== undefined && declared !== kind) {
    throw new EnvelopeError(
      Ext.kind,
      `this envelope is a ${declared}; send it with the matching bus method, not as a ${kind}`,
    )
  }
  return declared === kind ? envelope : withAttributes(envelope, { [Ext.kind]: kind })
}

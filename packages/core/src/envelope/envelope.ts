import { CloudEvent, type CloudEventV1 } from 'cloudevents'
import { EnvelopeError, errorMessage } from '../errors.js'
import { attachEncoded, Encoded, encoded } from './encoded.js'

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

const extensionName = /^[a-z0-9]{1,20}$/
const reserved = new Set([
  'id',
  'source',
  'type',
  'specversion',
  'subject',
  'time',
  'datacontenttype',
  'dataschema',
  'data',
  'data_base64',
])

function requireString(field: string, value: unknown, optional: boolean): void {
  if (value === undefined && optional) return
  if (typeof value !== 'string' || value.length === 0) {
    throw new EnvelopeError(field, `must be a non-empty string, got ${describe(value)}`)
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing'
  if (value === null) return 'null'
  if (typeof value === 'string') return 'an empty string'
  return `a ${typeof value}`
}

/** The default content type for `data`, and its JSON text when it is JSON (kept for encoding later). */
function checkData(data: unknown): { contentType?: string; json?: string } {
  if (data === undefined || data === null) return {}
  if (data instanceof Uint8Array) return { contentType: 'application/octet-stream' }
  if (typeof data === 'string') return { contentType: 'text/plain; charset=utf-8' }
  let json: string | undefined
  try {
    json = JSON.stringify(data)
    if (json === undefined) throw new Error(`a ${typeof data} has no JSON form`)
  } catch (error) {
    throw new EnvelopeError('data', `cannot be serialised to JSON: ${errorMessage(error)}`, { cause: error })
  }
  return { contentType: 'application/json', json }
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

/** A given optional string attribute, checked. */
function optional(field: string, value: string): string {
  requireString(field, value, false)
  return value
}

function checkExtension(name: string, value: unknown): void {
  if (reserved.has(name)) {
    throw new EnvelopeError(`extensions.${name}`, 'is a CloudEvents core attribute; set it directly')
  }
  if (!extensionName.test(name)) {
    throw new EnvelopeError(
      `extensions.${name}`,
      'extension names must be 1-20 characters of lower-case a-z and 0-9 (CloudEvents 1.0)',
    )
  }
  const ok =
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) <= 2 ** 31)
  if (!ok) {
    throw new EnvelopeError(
      `extensions.${name}`,
      `must be a string, boolean or 32-bit integer, got ${describe(value)}`,
    )
  }
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
  if (input === null || typeof input !== 'object') {
    throw new EnvelopeError('input', `must be an object with at least a type, got ${describe(input)}`)
  }
  requireString('type', input.type, false)
  const source = input.source ?? defaultSource
  requireString('source', source, false)
  requireString('id', input.id, true)
  requireString('subject', input.subject, true)
  requireString('dataschema', input.dataschema, true)
  requireString('datacontenttype', input.datacontenttype, true)
  const time = input.time instanceof Date ? input.time.toISOString() : input.time
  if (time !== undefined && Number.isNaN(Date.parse(time))) {
    throw new EnvelopeError('time', `must be an RFC 3339 timestamp, got "${time}"`)
  }
  const { contentType, json } = checkData(input.data)
  if (input.dataschema !== undefined && !URL.canParse(input.dataschema)) {
    throw new EnvelopeError('dataschema', `must be an absolute URI, got "${input.dataschema}"`)
  }
  // The attributes without data, as a plain object: kept for the structured encoding,
  // where JSON.stringify of a plain object is much faster than of the envelope's copy.
  const head: Record<string, unknown> = {
    specversion: '1.0',
    id: input.id ?? crypto.randomUUID(),
    source,
    type: input.type,
    time: time ?? nowIso(),
    [Ext.kind]: kind,
  }
  if (input.subject !== undefined) head.subject = input.subject
  if (input.dataschema !== undefined) head.dataschema = input.dataschema
  const datacontenttype = input.datacontenttype ?? contentType
  if (datacontenttype !== undefined) head.datacontenttype = datacontenttype
  // Written out, not looped over by name: five named loads cost less than five keyed ones.
  if (input.partitionkey !== undefined) head.partitionkey = optional('partitionkey', input.partitionkey)
  if (input.correlationid !== undefined) head.correlationid = optional('correlationid', input.correlationid)
  if (input.causationid !== undefined) head.causationid = optional('causationid', input.causationid)
  if (input.traceparent !== undefined) head.traceparent = optional('traceparent', input.traceparent)
  if (input.tracestate !== undefined) head.tracestate = optional('tracestate', input.tracestate)
  if (input.extensions) {
    for (const name of Object.keys(input.extensions)) {
      const value = input.extensions[name]
      checkExtension(name, value)
      head[name] = value
    }
  }
  const event = Object.assign(new Blank(), head)
  if (input.data !== undefined) event.data = input.data
  // Everything the JSON schema would check was checked above.
  return seal<T>(event, new Encoded(json, head))
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

/** A copy of `envelope` with extra or replaced attributes (the original is frozen). */
export function withAttributes<T>(envelope: Envelope<T>, attributes: Record<string, unknown>): Envelope<T> {
  const copy: Record<string, unknown> = { ...envelope, ...attributes }
  // The CloudEvent class keeps both data and data_base64 for bytes; give it one.
  if (copy.data !== undefined) delete copy.data_base64
  for (const [key, value] of Object.entries(copy)) if (value === undefined) delete copy[key]
  // The same data serialises the same: keep its JSON when only attributes change.
  const sameData = !('data' in attributes) && !('data_base64' in attributes)
  return asCloudEvent<T>(copy, new Encoded(sameData ? encoded(envelope).json : undefined, undefined))
}

/** Turns any CloudEvent-shaped input into an envelope of `kind`, or throws naming the field. */
export function toEnvelope<T>(
  kind: MessageKind,
  input: EnvelopeInput<T> | Envelope<T>,
  defaultSource: string,
): Envelope<T> {
  if ('specversion' in input && input.specversion !== undefined) {
    const envelope = input as Envelope<T>
    const declared = kindOf(envelope)
    if (declared !== undefined && declared !== kind) {
      throw new EnvelopeError(
        Ext.kind,
        `this envelope is a ${declared}; send it with the matching bus method, not as a ${kind}`,
      )
    }
    return declared === kind ? envelope : withAttributes(envelope, { [Ext.kind]: kind })
  }
  return createEnvelope(kind, input as EnvelopeInput<T>, defaultSource)
}

import { CloudEvent, type CloudEventV1 } from 'cloudevents'
import { errorMessage } from '../errors.js'
import type { Envelope } from './envelope.js'

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

/** What an adapter hands to the decoder: the body and its headers, as strings. */
export interface WireMessage {
  body: Uint8Array
  headers: Readonly<Record<string, string | undefined>>
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

const REQUIRED = ['id', 'source', 'type'] as const
const textDecoder = new TextDecoder('utf-8', { fatal: true })

function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false
  const base = contentType.split(';', 1)[0]!.trim().toLowerCase()
  return base === 'application/json' || base === 'text/json' || base.endsWith('+json')
}

function isText(contentType: string | undefined): boolean {
  return contentType?.toLowerCase().startsWith('text/') ?? false
}

function dataBytes(event: Envelope): Uint8Array {
  const data = event.data
  if (data === undefined || data === null) return new Uint8Array(0)
  if (data instanceof Uint8Array) return data
  if (typeof data === 'string' && !isJson(event.datacontenttype)) return Buffer.from(data, 'utf8')
  return Buffer.from(JSON.stringify(data), 'utf8')
}

/** The event as one JSON document (structured mode). */
export function encodeStructured(event: Envelope): Buffer {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(event)) {
    if (value === undefined || key === 'data' || key === 'data_base64') continue
    out[key] = value
  }
  const data = event.data
  if (data instanceof Uint8Array) out.data_base64 = Buffer.from(data).toString('base64')
  else if (data !== undefined) out.data = data
  return Buffer.from(JSON.stringify(out), 'utf8')
}

/** The event as prefixed string headers plus the data as body (binary mode). */
export function encodeBinary(
  event: Envelope,
  prefix: string,
): { headers: Record<string, string>; body: Uint8Array; contentType: string | undefined } {
  const headers: Record<string, string> = {}
  let types = ''
  for (const [key, value] of Object.entries(event)) {
    if (value === undefined || key === 'data' || key === 'data_base64' || key === 'datacontenttype') continue
    headers[prefix + key] = String(value)
    if (typeof value === 'number') types += `${types ? ',' : ''}${key}=i`
    else if (typeof value === 'boolean') types += `${types ? ',' : ''}${key}=b`
  }
  if (types) headers[TYPES_HEADER] = types
  return { headers, body: dataBytes(event), contentType: event.datacontenttype }
}

function malformed(reason: string, message: WireMessage): Decoded {
  const headers: Record<string, string> = {}
  for (const [k, v] of Object.entries(message.headers)) if (v !== undefined) headers[k] = v
  return { malformed: { reason, body: message.body, headers } }
}

function finish(attributes: Record<string, unknown>, message: WireMessage): Decoded {
  if (attributes.specversion !== '1.0') {
    return malformed(`unsupported or missing specversion ${JSON.stringify(attributes.specversion)}`, message)
  }
  for (const name of REQUIRED) {
    const value = attributes[name]
    if (typeof value !== 'string' || value.length === 0) {
      return malformed(`missing required CloudEvents attribute "${name}"`, message)
    }
  }
  try {
    // Validated above; the full schema check is skipped on the hot path.
    return { event: new CloudEvent(attributes as Partial<CloudEventV1<unknown>>, false) as Envelope }
  } catch (error) {
    return malformed(`not a valid CloudEvent: ${errorMessage(error)}`, message)
  }
}

function decodeStructured(message: WireMessage): Decoded {
  let parsed: unknown
  try {
    parsed = JSON.parse(textDecoder.decode(message.body))
  } catch (error) {
    return malformed(`structured CloudEvent body is not JSON: ${errorMessage(error)}`, message)
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return malformed('structured CloudEvent body is not a JSON object', message)
  }
  const attributes = parsed as Record<string, unknown>
  if (typeof attributes.data_base64 === 'string') {
    attributes.data = Buffer.from(attributes.data_base64, 'base64')
    delete attributes.data_base64
  }
  return finish(attributes, message)
}

function decodeBinary(message: WireMessage, prefix: string): Decoded {
  const attributes: Record<string, unknown> = {}
  const plen = prefix.length
  for (const [key, value] of Object.entries(message.headers)) {
    if (value === undefined || key.length <= plen) continue
    if (key.slice(0, plen).toLowerCase() !== prefix.toLowerCase()) continue
    attributes[key.slice(plen).toLowerCase()] = value
  }
  const types = message.headers[TYPES_HEADER]
  if (types) {
    for (const pair of types.split(',')) {
      const [name, tag] = pair.split('=')
      const raw = name === undefined ? undefined : attributes[name]
      if (typeof raw !== 'string') continue
      if (tag === 'i' && /^-?\d+$/.test(raw)) attributes[name!] = Number(raw)
      else if (tag === 'b') attributes[name!] = raw === 'true'
    }
  }
  const contentType = message.contentType ?? findHeader(message.headers, 'content-type')
  if (contentType !== undefined) attributes.datacontenttype = contentType
  if (message.body.byteLength > 0) {
    try {
      if (isJson(contentType)) attributes.data = JSON.parse(textDecoder.decode(message.body))
      else if (isText(contentType)) attributes.data = textDecoder.decode(message.body)
      else attributes.data = Buffer.from(message.body)
    } catch (error) {
      return malformed(`data does not match its content type ${contentType}: ${errorMessage(error)}`, message)
    }
  }
  return finish(attributes, message)
}

function findHeader(headers: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  const direct = headers[name]
  if (direct !== undefined) return direct
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return value
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
    if (findHeader(message.headers, `${prefix}specversion`.toLowerCase()) !== undefined) {
      return decodeBinary(message, prefix)
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

/** The size a transport should check against its limit, for structured mode. */
export function structuredSize(event: Envelope): number {
  return encodeStructured(event).byteLength
}

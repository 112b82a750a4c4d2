import { type Decoded, invalidAttributes } from '../envelope/binding.js'
import { LazyData } from '../envelope/data.js'
import { dataJson, Encoded, encoded } from '../envelope/encoded.js'
import { asCloudEvent, asReceived, type Envelope } from '../envelope/envelope.js'

/**
 * An event as a transport in this process keeps it between publish and delivery:
 * what its structured form holds, without writing that as one text and parsing it
 * back. Attribute values are strings, finite numbers and booleans, which are
 * immutable, so deliveries sharing them share nothing; the data stays serialised
 * and is parsed afresh for each delivery, as it would be from the wire.
 */
export interface KeptEvent {
  readonly attributes: Readonly<Record<string, unknown>>
  /** The data as JSON text, for JSON and text data. */
  readonly json: string | undefined
  /** A copy of binary data. */
  readonly bytes: Uint8Array | undefined
}

const primitive = (value: unknown) =>
  typeof value === 'string' ||
  typeof value === 'boolean' ||
  (typeof value === 'number' && Number.isFinite(value))

/**
 * The event kept for delivery in this process, or undefined when it must go the
 * wire's way instead: an attribute JSON would change (objects, null, NaN) or one a
 * receiver would reject as malformed.
 */
export function keepEvent(event: Envelope): KeptEvent | undefined {
  const entry = encoded(event)
  let attributes = entry.attributes
  if (attributes === undefined) {
    const copy: Record<string, unknown> = {}
    for (const key in event) {
      const value = event[key]
      if (value === undefined || key === 'data' || key === 'data_base64') continue
      if (!primitive(value)) return undefined
      copy[key] = value
    }
    attributes = copy
  }
  // An envelope checked when it was made (or first sent) already keeps every rule a receiver applies.
  if (!entry.checked && invalidAttributes(attributes) !== undefined) return undefined
  const data = event.data
  if (data instanceof Uint8Array) return { attributes, json: undefined, bytes: Uint8Array.from(data) }
  return { attributes, json: dataJson(event, entry), bytes: undefined }
}

/** A fresh envelope from a kept event, as decodeMessage would make from its structured form. */
export function decodeKept(kept: KeptEvent): Decoded {
  if (kept.bytes !== undefined)
    return { event: asCloudEvent(kept.attributes, undefined, Buffer.from(kept.bytes)) }
  if (kept.json === undefined) return { event: asCloudEvent(kept.attributes) }
  // JSON.stringify wrote it, so it parses: parsed when first read, and sent on as it is.
  const entry = new Encoded(kept.json, undefined)
  entry.lazy = new LazyData(kept.json, undefined, undefined)
  return { event: asReceived(kept.attributes, entry) }
}

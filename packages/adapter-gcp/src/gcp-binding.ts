import type { Envelope } from '@omnibus/core'
import {
  type Decoded,
  decodeMessage,
  encodeBinary,
  encodeStructured,
  MessageTooLargeError,
  OmnibusError,
  STRUCTURED_CONTENT_TYPE,
} from '@omnibus/core/adapter'

/**
 * CloudEvents ↔ Pub/Sub messages, after Google's Pub/Sub protocol binding:
 * binary mode puts every attribute in a `ce-` prefixed message attribute and
 * the data in the body, `content-type` carrying datacontenttype; structured
 * mode sends the JSON event with `content-type: application/cloudevents+json`.
 * The receiver tells the two apart per message.
 */
export const ATTRIBUTE_PREFIX = 'ce-'

/** Pub/Sub's documented quotas, checked here so that nothing oversize is sent. */
export const LIMITS = {
  attributes: 100,
  attributeKeyBytes: 256,
  attributeValueBytes: 1024,
  orderingKeyBytes: 1024,
  messageBytes: 10_000_000,
} as const

const STRUCTURED_ATTRIBUTE_BYTES = 'content-type'.length + STRUCTURED_CONTENT_TYPE.length

/** What the client's `publishMessage` takes. */
export interface OutgoingMessage {
  data: Buffer
  attributes: Record<string, string>
  orderingKey?: string
}

/** MESSAGE_TOO_LARGE for `what` being `size`, over the Pub/Sub limit `limit` (`… bytes per <per>`). */
function tooBig(event: Envelope, what: string, size: number, limit: number, per: string): OmnibusError {
  return new OmnibusError(
    'MESSAGE_TOO_LARGE',
    `[omnibus] [gcp] event ${event.id}: ${what} is ${size}, over Pub/Sub's limit of ${limit} ${per}; nothing ` +
      'was sent. Shorten it, or use mode "structured", which carries attributes in the body instead.',
  )
}

/** Checks the attribute limits and returns the attributes' size in bytes (keys and values), counted once. */
function checkAttributes(event: Envelope, attributes: Record<string, string>): number {
  const keys = Object.keys(attributes)
  let size = 0
  if (keys.length > LIMITS.attributes) {
    throw tooBig(event, 'the attribute count', keys.length, LIMITS.attributes, 'attributes per message')
  }
  for (const key of keys) {
    const keyBytes = Buffer.byteLength(key)
    if (keyBytes > LIMITS.attributeKeyBytes) {
      const what = `attribute key "${key.slice(0, 40)}…"`
      throw tooBig(event, what, keyBytes, LIMITS.attributeKeyBytes, 'bytes per attribute key')
    }
    const valueBytes = Buffer.byteLength(attributes[key]!)
    if (valueBytes > LIMITS.attributeValueBytes) {
      throw tooBig(
        event,
        `attribute "${key}"`,
        valueBytes,
        LIMITS.attributeValueBytes,
        'bytes per attribute value',
      )
    }
    size += keyBytes + valueBytes
  }
  return size
}

/** The Pub/Sub message for `event`; throws MESSAGE_TOO_LARGE naming the Pub/Sub limit it would break. */
export function toPubSubMessage(
  event: Envelope,
  mode: 'binary' | 'structured',
  ordering: boolean,
): OutgoingMessage {
  let message: OutgoingMessage
  let size: number
  if (mode === 'structured') {
    message = { data: encodeStructured(event), attributes: { 'content-type': STRUCTURED_CONTENT_TYPE } }
    size = message.data.byteLength + STRUCTURED_ATTRIBUTE_BYTES
  } else {
    const binary = encodeBinary(event, ATTRIBUTE_PREFIX)
    const attributes = binary.headers
    if (binary.contentType !== undefined) attributes['content-type'] = binary.contentType
    const body = binary.body
    message = {
      data: Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength),
      attributes,
    }
    size = message.data.byteLength + checkAttributes(event, attributes)
  }
  if (size > LIMITS.messageBytes) throw new MessageTooLargeError('gcp', LIMITS.messageBytes, size, event.id)
  const key = event.partitionkey
  if (ordering && typeof key === 'string' && key.length > 0) {
    const keyBytes = Buffer.byteLength(key)
    if (keyBytes > LIMITS.orderingKeyBytes) {
      throw tooBig(event, 'partitionkey', keyBytes, LIMITS.orderingKeyBytes, 'bytes per ordering key')
    }
    message.orderingKey = key
  }
  return message
}

/** A received Pub/Sub message as a CloudEvent, or as malformed input with the reason. Never throws. */
export function fromPubSubMessage(
  data: Buffer,
  attributes: Readonly<Record<string, string>> | undefined,
): Decoded {
  const headers = attributes ?? {}
  return decodeMessage({ body: data, headers, contentType: headers['content-type'] }, [ATTRIBUTE_PREFIX])
}

import type { Envelope } from '@omnibus/core'
import {
  type Delivery,
  decodeMessage,
  encodeBinary,
  encodeStructured,
  STRUCTURED_CONTENT_TYPE,
  type WireMessage,
} from '@omnibus/core/adapter'
import type { ConsumeMessage, Options } from 'amqplib'

/**
 * CloudEvents <-> AMQP 0-9-1 message, per the CloudEvents AMQP binding as
 * RabbitMQ users know it: binary mode puts attributes in `cloudEvents_` headers
 * and the data in the body, the content type in the `content-type` property.
 */
export const HEADER_PREFIX = 'cloudEvents_'
/** Prefixes accepted on receipt: ours, the AMQP binding's original `cloudEvents:`, and HTTP-style `ce-`. */
export const READ_PREFIXES = [HEADER_PREFIX, 'cloudEvents:', 'ce-'] as const

/** The AMQP message for `event`: persistent, `messageId` = event id. */
export function toAmqp(
  event: Envelope,
  mode: 'binary' | 'structured',
): { content: Buffer; options: Options.Publish } {
  const options: Options.Publish = { persistent: true, messageId: event.id, timestamp: Date.now() }
  if (mode === 'structured')
    return { content: encodeStructured(event), options: { ...options, contentType: STRUCTURED_CONTENT_TYPE } }
  const { headers, body, contentType } = encodeBinary(event, HEADER_PREFIX)
  options.headers = headers
  if (contentType !== undefined) options.contentType = contentType
  return { content: Buffer.from(body.buffer, body.byteOffset, body.byteLength), options }
}

type HeaderValue = WireMessage['headers'][string]

/**
 * AMQP table values arrive typed, and the AMQP binding maps CloudEvents types onto
 * them: a timestamp (seconds, as amqplib hands it over) is a Timestamp, numbers (64-bit
 * ones too) Integers, booleans Booleans, byte arrays text to be checked as UTF-8. Anything
 * else (tables, arrays, decimals) has no CloudEvents type and is read as its JSON.
 */
function headerValue(value: unknown): HeaderValue {
  if (value === undefined || value === null) return undefined
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value
  if (Buffer.isBuffer(value)) return value
  if (typeof value === 'object' && '!' in value && 'value' in value) {
    if (value['!'] === 'timestamp' && typeof value.value === 'number') {
      const time = new Date(value.value * 1000)
      return Number.isNaN(time.getTime()) ? String(value.value) : time.toISOString()
    }
    return headerValue(value.value)
  }
  try {
    return JSON.stringify(value)
  } catch {
    return String(value)
  }
}

/** How often the broker has delivered it: quorum queues count (`x-delivery-count`), classic ones only flag redelivery. */
function deliveryCountOf(message: ConsumeMessage): number {
  const counted = Number(message.properties.headers?.['x-delivery-count'])
  if (Number.isInteger(counted) && counted >= 0) return counted + 1
  return message.fields.redelivered ? 2 : 1
}

/** Decodes a delivery; never throws (what is not a CloudEvent comes back as `malformed`). */
export function fromAmqp(message: ConsumeMessage): Delivery {
  const headers: Record<string, HeaderValue> = {}
  const table = message.properties.headers
  if (table) for (const name in table) headers[name] = headerValue(table[name])
  const contentType =
    typeof message.properties.contentType === 'string' ? message.properties.contentType : undefined
  const decoded = decodeMessage({ body: message.content, headers, contentType }, READ_PREFIXES)
  return { ...decoded, deliveryCount: deliveryCountOf(message) }
}

import {
  type Delivery,
  decodeMessage,
  type Envelope,
  encodeBinary,
  encodeStructured,
  STRUCTURED_CONTENT_TYPE,
} from '@omnibus/core'
import type { ConsumeMessage, Options } from 'amqplib'

/**
 * CloudEvents <-> AMQP 0-9-1 message, per the CloudEvents AMQP binding as
 * RabbitMQ users know it: binary mode puts attributes in `cloudEvents_` headers
 * and the data in the body, the content type in the `content-type` property.
 */
export const HEADER_PREFIX = 'cloudEvents_'
/** Prefixes accepted on receipt: ours, the AMQP binding's original `cloudEvents:`, and HTTP-style `ce-`. */
export const READ_PREFIXES = [HEADER_PREFIX, 'cloudEvents:', 'ce-'] as const

export interface OutgoingMessage {
  readonly content: Buffer
  readonly options: Options.Publish
}

/** The AMQP message for `event`: persistent, `messageId` = event id. */
export function toAmqp(event: Envelope, mode: 'binary' | 'structured'): OutgoingMessage {
  const base: Options.Publish = { persistent: true, messageId: event.id, timestamp: Date.now() }
  if (mode === 'structured') {
    return { content: encodeStructured(event), options: { ...base, contentType: STRUCTURED_CONTENT_TYPE } }
  }
  const { headers, body, contentType } = encodeBinary(event, HEADER_PREFIX)
  return {
    content: Buffer.from(body.buffer, body.byteOffset, body.byteLength),
    options: { ...base, headers, ...(contentType !== undefined ? { contentType } : {}) },
  }
}

/** AMQP table values arrive typed (numbers, Buffers, booleans, timestamps, nested tables); the decoder wants strings. */
function headerText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value === 'string') return value
  if (Buffer.isBuffer(value)) return value.toString('utf8')
  if (value instanceof Date) return value.toISOString()
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value)
  // amqplib hands some typed values over as { '!': type, value }.
  if (typeof value === 'object' && '!' in value && 'value' in value) return headerText(value.value)
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
  const headers: Record<string, string | undefined> = {}
  for (const [name, value] of Object.entries(message.properties.headers ?? {}))
    headers[name] = headerText(value)
  const contentType =
    typeof message.properties.contentType === 'string' ? message.properties.contentType : undefined
  const decoded = decodeMessage({ body: message.content, headers, contentType }, READ_PREFIXES)
  return { ...decoded, deliveryCount: deliveryCountOf(message) }
}

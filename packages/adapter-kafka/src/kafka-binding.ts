import { isUtf8 } from 'node:buffer'
import type { Envelope } from '@omnibus/core'
import {
  type Decoded,
  decodeMessage,
  encodeBinary,
  encodeStructured,
  STRUCTURED_CONTENT_TYPE,
  type WireMessage,
  withAttributes,
} from '@omnibus/core/adapter'
import type { RecordHeaders } from './kafka-driver.js'

/**
 * The CloudEvents Kafka protocol binding: binary mode puts every attribute in a
 * `ce_` header and the data in the record value, with the data's content type in
 * `content-type`; structured mode sends the whole event as JSON with content type
 * `application/cloudevents+json`. Either way `partitionkey` becomes the record key
 * (no key without it), which is what keeps one key on one partition, in order.
 */
export const CE_PREFIX = 'ce_'
const CONTENT_TYPE = 'content-type'

/** A record ready for kafkajs, with its headers as strings. */
export interface KafkaRecord {
  key: Buffer | null
  value: Buffer
  headers: Record<string, string>
  /** Set by the publisher's partitioner on first send, so that retries keep it (see stablePartitioner). */
  partition?: number
  /** Kept by recordSize: the size check and the publish queue both ask for it. */
  size?: number
}

export type ContentMode = 'binary' | 'structured'

export function toRecord(event: Envelope, mode: ContentMode): KafkaRecord {
  const pk = event.partitionkey
  const key = pk === undefined || pk === null ? null : Buffer.from(String(pk), 'utf8')
  if (mode === 'structured') {
    return { key, value: encodeStructured(event), headers: { [CONTENT_TYPE]: STRUCTURED_CONTENT_TYPE } }
  }
  const { headers, body, contentType } = encodeBinary(event, CE_PREFIX)
  if (contentType !== undefined) headers[CONTENT_TYPE] = contentType
  // The body is a Buffer already unless the data was bytes given as a plain Uint8Array.
  const value = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  return { key, value, headers }
}

/**
 * What the record costs against the broker's max.message.bytes: key, value and
 * headers, plus the record and record-batch framing (a batch of one record
 * carries 61 bytes of batch header and up to ~21 bytes of record header, and a
 * few varint bytes per header).
 */
export function recordSize(record: KafkaRecord): number {
  if (record.size !== undefined) return record.size
  let size = 61 + 21 + (record.key?.byteLength ?? 0) + record.value.byteLength
  // for…in, not Object.entries: no array of pairs per record on the publish path.
  const headers = record.headers
  for (const name in headers) {
    size += 10 + Buffer.byteLength(name, 'utf8') + Buffer.byteLength(headers[name]!, 'utf8')
  }
  record.size = size
  return size
}

/**
 * Header values arrive as bytes, handed on as bytes: the decoder turns those of
 * attributes into text and dead-letters what is not UTF-8. A repeated header keeps its last value.
 */
function headerValues(headers: RecordHeaders | undefined): Record<string, WireMessage['headers'][string]> {
  const out: Record<string, WireMessage['headers'][string]> = {}
  if (!headers) return out
  if (headers instanceof Map) {
    for (const [name, value] of headers) out[name] = value
    return out
  }
  const record = headers as Exclude<RecordHeaders, ReadonlyMap<string, Buffer>>
  for (const name in record) {
    const raw = record[name]
    const value = Array.isArray(raw) ? raw[raw.length - 1] : raw
    if (value === undefined) continue
    out[name] = Buffer.isBuffer(value) ? value : String(value)
  }
  return out
}

const EMPTY = Buffer.alloc(0)

/** Decodes a received record in whichever mode it was sent; never throws. */
export function fromRecord(record: {
  key: Buffer | null
  value: Buffer | null
  headers?: RecordHeaders
}): Decoded {
  const decoded = decodeMessage({ body: record.value ?? EMPTY, headers: headerValues(record.headers) }, [
    CE_PREFIX,
  ])
  // A foreign producer's key is the event's partition key, as the binding says; a
  // key that is not text (an Avro id, a hash) cannot be one, and only places the record.
  const key = record.key
  if (decoded.event && decoded.event.partitionkey === undefined && key && key.byteLength > 0 && isUtf8(key)) {
    try {
      return { event: withAttributes(decoded.event, { partitionkey: key.toString('utf8') }) }
    } catch {
      return decoded
    }
  }
  return decoded
}

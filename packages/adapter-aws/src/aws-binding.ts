import type { Message } from '@aws-sdk/client-sqs'
import type { Envelope } from '@omnibus/core'
import {
  type Delivery,
  decodeMessage,
  encodeStructured,
  STRUCTURED_CONTENT_TYPE,
  shortHash,
  type WireMessage,
} from '@omnibus/core/adapter'

/**
 * CloudEvents ↔ SNS/SQS messages. There is no official CloudEvents binding for
 * SNS/SQS, and a message carries at most 10 attributes, so Omnibus writes
 * structured mode only: the event as `application/cloudevents+json` in the body,
 * plus one `content-type` message attribute. It reads binary mode too (attributes
 * prefixed `ce_` or `ce-`, data in the body) from other producers, and SNS
 * notifications that were not sent with raw delivery.
 */
export const BINARY_PREFIXES = ['ce_', 'ce-'] as const

/**
 * SNS and SQS bodies are Unicode text (no NUL, no invalid UTF-8), so a producer whose
 * payload is arbitrary bytes can put them in a Binary message attribute of this name;
 * the text body is then a placeholder, and the decoder reads the bytes from here.
 */
export const BINARY_BODY_ATTRIBUTE = 'body'

/** SNS and SQS both cap a message, body and attributes together, at 256 KiB. */
export const MAX_MESSAGE_BYTES = 256 * 1024

/** The shape SNS and SQS share for a message attribute. */
export interface AttributeValue {
  DataType: string | undefined
  StringValue?: string | undefined
  BinaryValue?: Uint8Array | undefined
}

export interface OutgoingMessage {
  readonly body: string
  /** Bytes of body plus attributes, as SNS/SQS count them against the 256 KiB limit. */
  readonly size: number
  readonly attributes: Record<string, AttributeValue>
  /** FIFO only: the event's `partitionkey`, or its id when it has none. */
  readonly groupId?: string
  /** FIFO only: derived from the event id, so a republished event is dropped within SQS's 5-minute window. */
  readonly deduplicationId?: string
}

const CONTENT_TYPE = 'content-type'
const attributeBytes = CONTENT_TYPE.length + 'String'.length + STRUCTURED_CONTENT_TYPE.length

/** FIFO ids: 1–128 characters of printable ASCII. Anything else is replaced by its hash. */
function fifoId(value: string): string {
  return /^[!-~]{1,128}$/.test(value) ? value : shortHash(value, 64)
}

export function encodeEvent(event: Envelope, fifo: boolean): OutgoingMessage {
  // SQS refuses U+FFFE and U+FFFF, which JSON.stringify leaves as they are; they can only
  // occur inside JSON strings, where the escaped form means the same.
  const body = encodeStructured(event)
    .toString('utf8')
    .replace(/[\uFFFE\uFFFF]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`)
  const bodyBytes = Buffer.byteLength(body, 'utf8')
  // Near the limit, drop the attribute: a JSON body without one still decodes as structured.
  const withAttribute = bodyBytes + attributeBytes <= MAX_MESSAGE_BYTES
  const attributes: Record<string, AttributeValue> = withAttribute
    ? { [CONTENT_TYPE]: { DataType: 'String', StringValue: STRUCTURED_CONTENT_TYPE } }
    : {}
  const message: OutgoingMessage = {
    body,
    size: bodyBytes + (withAttribute ? attributeBytes : 0),
    attributes,
  }
  if (!fifo) return message
  const key = event.partitionkey
  return {
    ...message,
    // Unkeyed events promise no order: their own group each keeps them from queueing behind one another.
    groupId: fifoId(typeof key === 'string' && key.length > 0 ? key : event.id),
    deduplicationId: fifoId(event.id),
  }
}

/** An SNS notification as it arrives in SQS when a subscription is not in raw delivery mode. */
interface SnsEnvelope {
  Type: 'Notification'
  TopicArn: string
  Message: string
  MessageAttributes?: Record<string, { Type: string; Value: string }>
}

function unwrapSns(body: string): SnsEnvelope | undefined {
  if (!body.startsWith('{') || !body.includes('"TopicArn"')) return undefined
  try {
    const parsed = JSON.parse(body) as Partial<SnsEnvelope>
    if (
      parsed.Type === 'Notification' &&
      typeof parsed.Message === 'string' &&
      typeof parsed.TopicArn === 'string'
    ) {
      return parsed as SnsEnvelope
    }
  } catch {
    // Not an SNS envelope; decoded as it is.
  }
  return undefined
}

type HeaderValue = WireMessage['headers'][string]

/**
 * An attribute as the decoder takes it: a Number attribute that is an integer as
 * a number (a CloudEvents Integer), a Binary one as bytes (checked as UTF-8 where
 * it is a CloudEvents attribute), a String one as it is.
 */
function attributeValue({ DataType, StringValue, BinaryValue }: AttributeValue): HeaderValue {
  if (BinaryValue !== undefined) return BinaryValue
  if (StringValue === undefined) return undefined
  if (DataType?.startsWith('Number')) {
    const n = Number(StringValue)
    if (Number.isSafeInteger(n)) return n
  }
  return StringValue
}

/** Never throws: what is not a CloudEvent comes back as `malformed`, for core to dead-letter. */
export function decodeSqsMessage(message: Message): Delivery {
  const sns = unwrapSns(message.Body ?? '')
  let body: Uint8Array = Buffer.from(sns ? sns.Message : (message.Body ?? ''), 'utf8')
  // SNS writes a Binary attribute's bytes as base64 in its JSON notification.
  const snsAttributes = Object.entries(sns?.MessageAttributes ?? {}).map(([name, { Type, Value }]) => {
    const BinaryValue = Type === 'Binary' ? Buffer.from(Value, 'base64') : undefined
    return [name, { DataType: Type, StringValue: Value, BinaryValue }] as const
  })
  const headers: Record<string, HeaderValue> = {}
  for (const [name, value] of [...Object.entries(message.MessageAttributes ?? {}), ...snsAttributes]) {
    if (name === BINARY_BODY_ATTRIBUTE && value.BinaryValue !== undefined) body = value.BinaryValue
    else headers[name] = attributeValue(value)
  }
  const count = Number(message.Attributes?.ApproximateReceiveCount)
  const decoded = decodeMessage({ body, headers }, BINARY_PREFIXES)
  return { ...decoded, deliveryCount: Number.isInteger(count) && count > 0 ? count : 1 }
}

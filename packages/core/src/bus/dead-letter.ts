import type { MalformedMessage } from '../envelope/binding.js'
import { encodeStructured } from '../envelope/binding.js'
import { createEnvelopeWith, type Envelope, withAttributes } from '../envelope/envelope.js'
import { cleanText, jsonText } from '../envelope/rules.js'
import type { Channel } from '../transport/transport.js'

/** Extensions a dead letter carries to say why it died. */
export const DeadLetterExt = {
  reason: 'dlreason',
  attempts: 'dlattempts',
  channel: 'dlchannel',
  group: 'dlgroup',
  time: 'dltime',
  headers: 'dlheaders',
  /** On a truncated letter: the byte size of what it stands for. */
  size: 'dlsize',
} as const

/** The type of the envelope that carries a malformed message's raw bytes. */
export const MALFORMED_TYPE = 'dev.omnibus.malformed'
/** The type of a dead letter that could not be published whole: a prefix of the bytes, the size, the reason. */
export const TRUNCATED_TYPE = 'dev.omnibus.truncated'

/** Dead letters of a channel wait in a queue named after it; read it like any channel. */
export const deadLetterChannel = (channel: string): Channel => ({ name: `${channel}.dlq`, kind: 'queue' })

export interface DeathInfo {
  reason: string
  attempts: number
  channel: string
  group: string
}

/*
 * A reason is an error's message: it may hold newlines (which attributes may not)
 * and be long. A truncated letter keeps its attributes within every broker's
 * per-attribute limit (Pub/Sub: 1,024 bytes; 300 UTF-16 units are at most 900 bytes).
 */
const REASON_MAX = 2000
const SHORT_MAX = 300
const HEADERS_MAX_BYTES = 600

function death(info: DeathInfo, max: number): Record<string, string | number> {
  return {
    dlreason: cleanText(info.reason, max),
    dlattempts: Math.max(0, Math.min(info.attempts, 2 ** 31 - 1)),
    dlchannel: info.channel,
    dlgroup: info.group,
    dltime: new Date().toISOString(),
  }
}

/** The original event, untouched, plus why it died. */
export function deadLetterOf(event: Envelope, info: DeathInfo): Envelope {
  return withAttributes(event, death(info, REASON_MAX))
}

/** A malformed message's bytes, exactly as they arrived, with the reason and the headers. */
export function deadLetterOfMalformed(message: MalformedMessage, info: DeathInfo): Envelope {
  return createEnvelopeWith(
    'event',
    {
      type: MALFORMED_TYPE,
      source: `urn:omnibus:channel:${info.channel}`,
      datacontenttype: 'application/octet-stream',
      data: message.body,
    },
    undefined,
    { ...death(info, REASON_MAX), dlheaders: jsonText(message.headers) },
  )
}

/** What a dead letter that cannot be published whole stands for: its bytes and headers. */
export interface Remains {
  readonly bytes: Uint8Array
  readonly headers: Readonly<Record<string, string>>
}

export const remainsOfMalformed = (message: MalformedMessage): Remains => ({
  bytes: message.body,
  headers: message.headers,
})

export const remainsOfEvent = (event: Envelope): Remains => ({
  bytes: encodeStructured(event),
  headers: { id: event.id, type: event.type, source: event.source },
})

/** Headers as JSON of at most HEADERS_MAX_BYTES: as many as fit, names and values cut. */
function cutHeaders(headers: Readonly<Record<string, string>>): string {
  const kept: Record<string, string> = {}
  let text = '{}'
  for (const [name, value] of Object.entries(headers)) {
    kept[cleanText(name, 64)] = cleanText(String(value), 128)
    const next = jsonText(kept)
    if (Buffer.byteLength(next) > HEADERS_MAX_BYTES) break
    text = next
  }
  return text
}

/**
 * The dead letter of last resort: the reason, the original size, the first
 * `prefixBytes` of the bytes and the headers cut to fit, small enough for every
 * broker, so that the message always leaves its channel.
 */
export function truncatedDeadLetter(remains: Remains, info: DeathInfo, prefixBytes: number): Envelope {
  const prefix = remains.bytes.subarray(0, Math.max(0, prefixBytes))
  return createEnvelopeWith(
    'event',
    {
      type: TRUNCATED_TYPE,
      source: `urn:omnibus:channel:${info.channel}`,
      datacontenttype: 'application/octet-stream',
      data: prefix,
    },
    undefined,
    {
      ...death(info, SHORT_MAX),
      dlsize: Math.min(remains.bytes.byteLength, 2 ** 31 - 1),
      dlheaders: prefixBytes > 0 ? cutHeaders(remains.headers) : '{}',
    },
  )
}

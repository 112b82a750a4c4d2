import type { MalformedMessage } from '../envelope/binding.js'
import { createEnvelope, type Envelope, withAttributes } from '../envelope/envelope.js'
import type { Channel } from '../transport/transport.js'

/** Extensions a dead letter carries to say why it died. */
export const DeadLetterExt = {
  reason: 'dlreason',
  attempts: 'dlattempts',
  channel: 'dlchannel',
  group: 'dlgroup',
  time: 'dltime',
  headers: 'dlheaders',
} as const

/** The type of the envelope that carries a malformed message's raw bytes. */
export const MALFORMED_TYPE = 'dev.omnibus.malformed'

/** Dead letters of a channel wait in a queue named after it; read it like any channel. */
export const deadLetterChannel = (channel: string): Channel => ({ name: `${channel}.dlq`, kind: 'queue' })

export interface DeathInfo {
  reason: string
  attempts: number
  channel: string
  group: string
}

/** The original event, untouched, plus why it died. */
export function deadLetterOf(event: Envelope, info: DeathInfo): Envelope {
  return withAttributes(event, {
    [DeadLetterExt.reason]: info.reason,
    [DeadLetterExt.attempts]: info.attempts,
    [DeadLetterExt.channel]: info.channel,
    [DeadLetterExt.group]: info.group,
    [DeadLetterExt.time]: new Date().toISOString(),
  })
}

/** A malformed message's bytes, exactly as they arrived, with the reason and the headers. */
export function deadLetterOfMalformed(message: MalformedMessage, info: DeathInfo): Envelope {
  return createEnvelope('event', {
    type: MALFORMED_TYPE,
    source: `urn:omnibus:channel:${info.channel}`,
    datacontenttype: 'application/octet-stream',
    data: message.body,
    extensions: {
      [DeadLetterExt.reason]: info.reason,
      [DeadLetterExt.attempts]: info.attempts,
      [DeadLetterExt.channel]: info.channel,
      [DeadLetterExt.group]: info.group,
      [DeadLetterExt.time]: new Date().toISOString(),
      [DeadLetterExt.headers]: JSON.stringify(message.headers),
    },
  })
}

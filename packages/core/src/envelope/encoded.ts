import type { Envelope } from './envelope.js'

/**
 * What has been serialised of one envelope and is worth keeping. Envelopes are
 * frozen, so the data's JSON (the costly part, made while validating) is kept for
 * the size check, the structured body and the binary body to share. Bodies are
 * not kept: an envelope lives on in its sender's hands after it was sent, and
 * everything remembered on it lives as long (and costs the garbage collector).
 */
export class Encoded {
  /** The attributes other than data as a JSON object, made by the size check for the encoding that follows it. */
  head: string | undefined = undefined
  /** The byte length of the structured form. */
  size: number | undefined = undefined

  constructor(
    /** The `data` (or `data_base64`) member of the structured form, as JSON text. */
    public json: string | undefined,
    /** The attributes other than data as a plain object, where the envelope's maker had one at hand. */
    readonly attributes: Readonly<Record<string, unknown>> | undefined,
  ) {}
}

/**
 * Envelopes made by core carry their Encoded under this key, set before they are
 * frozen. It is a non-enumerable symbol, so spreading, copying, JSON and
 * equality checks never see it; looking it up costs far less than a WeakMap.
 */
export const ENCODED: unique symbol = Symbol('omnibus.encoded')

/** Envelopes made elsewhere (the CloudEvent constructor, decoded messages) are remembered here. */
const others = new WeakMap<object, Encoded>()

export function encoded(event: Envelope): Encoded {
  const own = (event as { [ENCODED]?: Encoded })[ENCODED]
  if (own !== undefined) return own
  let entry = others.get(event)
  if (entry === undefined) {
    entry = new Encoded(undefined, undefined)
    others.set(event, entry)
  }
  return entry
}

/** The JSON text of the data member ("data" or "data_base64"), or undefined without data. */
export function dataJson(event: Envelope, entry: Encoded): string | undefined {
  if (entry.json !== undefined) return entry.json
  const data = event.data
  if (data === undefined) return undefined
  if (data instanceof Uint8Array)
    entry.json = `"${Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64')}"`
  else entry.json = JSON.stringify(data)
  return entry.json
}

import type { CloudEventV1 } from 'cloudevents'
import type { DataFailure, LazyData } from './data.js'

/** envelope.ts's Envelope, named from cloudevents so that envelope.ts <-> encoded.ts is no import cycle. */
type Envelope = CloudEventV1<unknown>

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
  /** Set by the decoder: what the message broke of the spec's SHOULDs, for the consumer to log. */
  warning: string | undefined = undefined
  /** Set by the decoder: JSON data not parsed yet (see LazyData); the envelope's `data` getter reads it. */
  lazy: LazyData | undefined = undefined

  constructor(
    /** The `data` (or `data_base64`) member of the structured form, as JSON text. */
    public json: string | undefined,
    /** The attributes other than data as a plain object, where the envelope's maker had one at hand. */
    readonly attributes: Readonly<Record<string, unknown>> | undefined,
    /** Checked against the envelope rules already (made by createEnvelope, or checked when sent once). */
    public checked = false,
    /**
     * The envelope is createEnvelope's of a type, a source and data alone, with an id of its
     * own: its structured head is written from a template (binding.ts, templatedHead).
     */
    readonly templated = false,
  ) {}
}

/** Returns the object it is given: lets Memo's constructor add its field to an object made elsewhere. */
class Stamp {
  constructor(target: object) {
    // biome-ignore lint/correctness/noConstructorReturn: the return-override idiom, to stamp a private field on `target`
    return target
  }
}

/**
 * Envelopes made by core carry their Encoded in this private field, stamped on
 * before they are frozen. Spreading, copying, JSON and equality checks never see
 * it, and it is read at the cost of a property, where a WeakMap costs a hash
 * lookup and ephemeron work in every GC (and defineProperty a runtime call).
 */
class Memo extends Stamp {
  #encoded: Encoded
  private constructor(target: object, entry: Encoded) {
    super(target)
    this.#encoded = entry
  }
  static attach(target: object, entry: Encoded): void {
    new Memo(target, entry)
  }
  static of(target: object): Encoded | undefined {
    return #encoded in target ? (target as Memo).#encoded : undefined
  }
}

/** Remembers `entry` as the encodings of `event`, which must not be frozen yet. */
export const attachEncoded = (event: object, entry: Encoded): void => Memo.attach(event, entry)

/** The decoder's warning about a received event, if any (read on every delivery: no allocation). */
export const decodeWarning = (event: Envelope): string | undefined => Memo.of(event)?.warning

/** Why a received event's data did not parse, once a read found out (the consumer dead-letters it as malformed). */
export const dataFailure = (event: Envelope): DataFailure | undefined => Memo.of(event)?.lazy?.failure()

/** The `data` getter of decoded envelopes: one function shared by all, reading the envelope's own LazyData. */
export function readLazyData(this: Envelope): unknown {
  return Memo.of(this)!.lazy!.read()
}

/** Envelopes made elsewhere (the CloudEvent constructor, decoded messages) are remembered here. */
const others = new WeakMap<object, Encoded>()

export function encoded(event: Envelope): Encoded {
  const own = Memo.of(event)
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
  // Received JSON is sent on as it came, once it parsed (a broken one throws here, as reading it would).
  if (entry.lazy !== undefined) {
    entry.json = entry.lazy.json()
    return entry.json
  }
  const data = event.data
  if (data === undefined) return undefined
  if (data instanceof Uint8Array)
    entry.json = `"${Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64')}"`
  else entry.json = JSON.stringify(data)
  return entry.json
}

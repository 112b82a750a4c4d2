import { EnvelopeError, errorMessage } from '../errors.js'
import { show } from './rules.js'

/**
 * JSON data is checked for what JSON.stringify would change without a word: a
 * Map or Set becomes {}, NaN null, a function or undefined in an array null, a
 * class instance a plain object. The receiver would get something other than
 * what was sent, so it is refused at send, naming where it is.
 */
interface Hazard {
  path: string[]
  what: string
}

const PLAIN = Object.prototype

function hazardOf(value: unknown, ancestors: Set<object> | undefined, inArray: boolean): Hazard | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined
    case 'number':
      return Number.isFinite(value) ? undefined : { path: [], what: `${value}, which JSON writes as null` }
    case 'undefined':
      return inArray ? { path: [], what: 'undefined in an array, which JSON writes as null' } : undefined
    case 'bigint':
      return { path: [], what: 'a BigInt, which JSON cannot write; send it as a string' }
    case 'function':
    case 'symbol':
      return { path: [], what: `a ${typeof value}, which JSON drops` }
  }
  if (value === null) return undefined
  const object = value as object
  // Objects that say how they serialise (Date, Buffer) are taken at their word.
  if (typeof (object as { toJSON?: unknown }).toJSON === 'function') return undefined
  const proto = Object.getPrototypeOf(object)
  const array = Array.isArray(object)
  if (!array && proto !== PLAIN && proto !== null) {
    return {
      path: [],
      what: `${show(object)}, which JSON writes as a plain object${object instanceof Map || object instanceof Set ? ' ({})' : ''}; send a plain object or array (or give the class a toJSON method)`,
    }
  }
  if (ancestors) {
    if (ancestors.has(object)) return { path: [], what: 'a circular reference' }
    ancestors.add(object)
  }
  let found: Hazard | undefined
  if (array) {
    const items = object as unknown[]
    for (let i = 0; i < items.length && !found; i++) {
      found = hazardOf(items[i], ancestors, true)
      found?.path.push(`[${i}]`)
    }
  } else {
    for (const key in object) {
      found = hazardOf((object as Record<string, unknown>)[key], ancestors, false)
      if (found) {
        found.path.push(/^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`)
        break
      }
    }
  }
  ancestors?.delete(object)
  return found
}

function refuse(hazard: Hazard): EnvelopeError {
  const path = `data${hazard.path.reverse().join('')}`
  return new EnvelopeError(path, `is ${hazard.what}`)
}

/** The JSON text of `data`, or an EnvelopeError naming the part of it JSON cannot carry as it is. */
export function dataToJson(data: unknown): string {
  let json: string | undefined
  try {
    json = JSON.stringify(data)
  } catch (error) {
    // Cycles and bigints: walk again, watching for cycles, to say where.
    let hazard: Hazard | undefined
    try {
      hazard = hazardOf(data, new Set(), false)
    } catch {
      hazard = undefined
    }
    if (hazard) throw refuse(hazard)
    throw new EnvelopeError('data', `cannot be serialised to JSON: ${errorMessage(error)}`, { cause: error })
  }
  let hazard: Hazard | undefined
  try {
    hazard = hazardOf(data, undefined, false)
  } catch (error) {
    throw new EnvelopeError('data', `is nested too deeply to check: ${errorMessage(error)}`, { cause: error })
  }
  if (hazard) throw refuse(hazard)
  if (json === undefined) throw new EnvelopeError('data', `is ${show(data)}, which has no JSON form`)
  return json
}

/** A message as it arrived (binding.ts's WireMessage), kept for a malformed dead letter. */
export interface Arrived {
  readonly body: Uint8Array
  readonly headers: Readonly<Record<string, unknown>>
}

/** A received message whose data turned out not to parse: the reason, and the message as it arrived. */
export interface DataFailure {
  readonly reason: string
  readonly message: Arrived
  /** The data came inside a structured document (whose own reason the decoder then gives). */
  readonly structured: boolean
}

/**
 * The JSON data of a received message, parsed when first read (issue 20 #3):
 * a message that idempotency drops, that no handler takes, or whose handler
 * never reads `data` costs no JSON.parse. The bytes were checked to be UTF-8
 * when decoded; only the parse is put off. A parse failure is kept: every read
 * throws the same EnvelopeError, and the consumer dead-letters the message as
 * malformed with that reason (docs/ENVELOPE.md, "Data read when first used").
 */
export class LazyData {
  private value: unknown = undefined
  private state: 0 | 1 | 2 = 0 // pending, parsed, failed
  private error: EnvelopeError | undefined = undefined

  constructor(
    /** The JSON text, or its UTF-8 bytes (turned into text at the parse). */
    private source: string | Uint8Array,
    private readonly contentType: string | undefined,
    /** The message as it arrived, kept until the data parsed, for a malformed dead letter. */
    private wire: Arrived | undefined,
    /** The data member of a structured document (its content type says what the data is, not JSON). */
    private readonly structured = false,
  ) {}

  /** The data, parsed at the first call; throws the parse's EnvelopeError at every call after a failure. */
  read(): unknown {
    if (this.state === 1) return this.value
    if (this.state === 2) throw this.error
    const text = this.text()
    try {
      this.value = JSON.parse(text)
      this.state = 1
      this.wire = undefined
      return this.value
    } catch (error) {
      this.state = 2
      const what = this.structured ? 'is not JSON' : `does not match its content type ${this.contentType}`
      this.error = new EnvelopeError(
        'data',
        `${what}: ${errorMessage(error)}; the message is dead-lettered as malformed`,
        { cause: error },
      )
      throw this.error
    }
  }

  /** The JSON text once it parsed (what a re-encoding reuses); throws as read() does. */
  json(): string {
    this.read()
    return this.text()
  }

  /** Why the data did not parse, once a read found it out; undefined while unread or parsed. */
  failure(): DataFailure | undefined {
    if (this.state !== 2) return undefined
    const reason = `data does not match its content type ${this.contentType}: ${errorMessage(this.error!.cause)}`
    return { reason, message: this.wire!, structured: this.structured }
  }

  private text(): string {
    const source = this.source
    if (typeof source === 'string') return source
    const text = Buffer.from(source.buffer, source.byteOffset, source.byteLength).toString('utf8')
    this.source = text
    return text
  }
}

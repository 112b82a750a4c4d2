import type { Handler, HandlerContext } from '../bus/context.js'
import { asCloudEvent, type Envelope, type EnvelopeInput, type MessageKind } from '../envelope/envelope.js'
import { EnvelopeError } from '../errors.js'
import type { AnyDefinition, DataIn, DataOut, MessageDefinition, QueryDefinition } from './define.js'
import { andThen, SchemaError, validate } from './validate.js'

/** A handler of a definition: its data is there, validated, the schema's output. */
export type TypedHandler<T, R = unknown> = (
  event: Envelope<T> & { readonly data: T },
  context: HandlerContext,
) => R | Promise<R>

/** The envelope attributes a typed send may set beside the data (type, data and dataschema come from the definition). */
export type SendOptions = Omit<EnvelopeInput, 'type' | 'data' | 'dataschema'>

/** An older version a handler accepts, with the function that turns its data into the current version's. */
export interface Upcaster<Target = unknown> {
  readonly from: MessageDefinition
  /** Takes the older version's output; returns the current version's input (then checked by its schema). */
  readonly upcast: (data: never) => Target
}

/** Accepts `from`'s data and turns it into the current version with `upcast`. */
export function upcast<F extends MessageDefinition, T>(
  from: F,
  upcast: (data: DataOut<F>) => T,
): Upcaster<T> {
  return { from, upcast }
}

/**
 * An older version a handler accepts: a definition (its data must then also
 * pass the current schema) or an upcaster.
 */
export type Accepted<Target> = MessageDefinition | Upcaster<Target>

/** What the typed `on`/`handle`/`answer` take beside the bus's usual handler options. */
export interface VersionOptions<D extends MessageDefinition> {
  /** Older versions (by their `dataschema`) this handler also takes; others are dead-lettered. */
  accept?: readonly Accepted<DataIn<D>>[]
}

const bus = { event: 'publish', command: 'send', query: 'query' } as const

function assertKind(definition: AnyDefinition, kind: MessageKind): void {
  if (definition.kind !== kind) {
    throw new EnvelopeError(
      'messagekind',
      `${definition.type} is defined as a ${definition.kind}; use bus.${bus[definition.kind]}, not bus.${bus[kind]}`,
    )
  }
}

/**
 * The envelope input of a typed send, once `data` passed the definition's
 * schema (throws SchemaError naming the path otherwise). The data goes out as
 * given (the schema's input type): receivers run the schema, and its
 * transforms, themselves.
 */
export function typedInput(
  kind: MessageKind,
  definition: AnyDefinition,
  data: unknown,
  options: SendOptions | undefined,
): EnvelopeInput | Promise<EnvelopeInput> {
  assertKind(definition, kind)
  return andThen(validate(definition.schema, data, definition.type), (value) => {
    const input: EnvelopeInput = { ...options, type: definition.type, data }
    if (definition.dataschema !== undefined) input.dataschema = definition.dataschema
    if (input.partitionkey === undefined && definition.partitionKey) {
      input.partitionkey = definition.partitionKey(value)
    }
    return input
  })
}

/** Runs `send` on the checked input; a refusal becomes a rejected promise, as every bus send reports. */
export function sendTyped<R>(
  kind: MessageKind,
  definition: AnyDefinition,
  data: unknown,
  options: SendOptions | undefined,
  send: (input: EnvelopeInput) => Promise<R>,
): Promise<R> {
  try {
    const input = typedInput(kind, definition, data, options)
    return input instanceof Promise ? input.then(send) : send(input)
  } catch (error) {
    return Promise.reject(error)
  }
}

/** The asker's side of a typed query: the answer parsed by the answer schema. */
export function parseAnswer(definition: QueryDefinition, answer: unknown): unknown {
  return validate(definition.answer, answer, definition.type, 'answer')
}

/** How one handler reads the versions of its type: the current schema, and older ones by `dataschema`. */
class Versions {
  private readonly older = new Map<string, Upcaster | MessageDefinition>()

  constructor(
    readonly definition: AnyDefinition,
    accept: readonly Accepted<unknown>[],
  ) {
    for (const entry of accept) {
      const from = 'upcast' in entry ? entry.from : entry
      if (from.type !== definition.type || from.dataschema === undefined) {
        throw new EnvelopeError(
          'dataschema',
          `${definition.type} can accept older versions of itself only, each with a dataschema or version; got ${from.type} (${from.dataschema ?? 'no dataschema'})`,
        )
      }
      this.older.set(from.dataschema, entry)
    }
  }

  /** The handler's data: validated, upcast when older; throws SchemaError (which is not retried). */
  read(event: Envelope): unknown {
    const { definition } = this
    const current = definition.dataschema
    const uri = event.dataschema
    if (current === undefined || uri === undefined || uri === current) {
      return validate(definition.schema, event.data, definition.type)
    }
    const entry = this.older.get(uri)
    if (!entry) {
      const accepted = [current, ...this.older.keys()].join(', ')
      throw new SchemaError(
        definition.type,
        [{ message: `dataschema ${uri} is not a version this handler accepts (${accepted})` }],
        'dataschema',
      )
    }
    const from = 'upcast' in entry ? entry.from : entry
    return andThen(validate(from.schema, event.data, definition.type), (old) => {
      const next = 'upcast' in entry ? (entry.upcast as (data: unknown) => unknown)(old) : old
      return validate(definition.schema, next, definition.type)
    })
  }
}

/**
 * Wraps a typed handler: it gets the schema's output (transforms applied,
 * older versions upcast), and never sees data its schema refuses. Queries'
 * answers are checked by the answer schema before they go back.
 */
export function typedHandler(
  kind: MessageKind,
  definition: AnyDefinition,
  handler: Handler,
  accept: readonly Accepted<unknown>[] = [],
): Handler {
  assertKind(definition, kind)
  const versions = new Versions(definition, accept)
  const call: Handler = (event, context) =>
    andThen(versions.read(event), (data) => handler(asCloudEvent(event, undefined, data), context))
  if (definition.kind !== 'query') return call
  const answer = definition.answer
  return (event, context) =>
    andThen(call(event, context), (reply) =>
      andThen(validate(answer, reply, definition.type, 'answer'), () => reply),
    )
}

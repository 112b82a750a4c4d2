import type { StandardSchemaV1 } from '@standard-schema/spec'
import type { MessageKind } from '../envelope/envelope.js'
import { OmnibusError } from '../errors.js'

/** Any Standard Schema (zod ≥ 3.24, valibot ≥ 1, arktype ≥ 2, effect, …). */
export type Schema = StandardSchemaV1
/** What a schema accepts: the type a sender gives. */
export type InputOf<S extends Schema> = StandardSchemaV1.InferInput<S>
/** What a schema returns after its transforms: the type a handler gets. */
export type OutputOf<S extends Schema> = StandardSchemaV1.InferOutput<S>

/** Marks definitions, so the bus can tell them from envelope inputs. */
export const definitionMark: unique symbol = Symbol.for('omnibus.definition')

/** What every definition says about its message. */
export interface MessageDefinition<K extends MessageKind = MessageKind, S extends Schema = Schema> {
  readonly [definitionMark]: true
  readonly kind: K
  /** The CloudEvents `type`. */
  readonly type: string
  /** The schema of `data`. */
  readonly schema: S
  /** The `dataschema` URI envelopes of this version carry (from `dataschema`, or made from `version`). */
  readonly dataschema?: string
  readonly version?: string
  readonly description?: string
  readonly examples?: readonly InputOf<S>[]
  /** The ordering key of a message, from its (validated) data. Method syntax: definitions stay covariant. */
  partitionKey?(data: OutputOf<S>): string
}

export type EventDefinition<S extends Schema = Schema> = MessageDefinition<'event', S>
export type CommandDefinition<S extends Schema = Schema> = MessageDefinition<'command', S>
export interface QueryDefinition<S extends Schema = Schema, A extends Schema = Schema>
  extends MessageDefinition<'query', S> {
  /** The schema of the answer. */
  readonly answer: A
}
export type AnyDefinition = EventDefinition | CommandDefinition | QueryDefinition

/** The data type a sender gives for `D`. */
export type DataIn<D extends MessageDefinition> = InputOf<D['schema']>
/** The data type a handler of `D` gets. */
export type DataOut<D extends MessageDefinition> = OutputOf<D['schema']>
/** What the answering handler of `Q` returns. */
export type AnswerIn<Q extends QueryDefinition> = InputOf<Q['answer']>
/** What the asker of `Q` gets. */
export type AnswerOut<Q extends QueryDefinition> = OutputOf<Q['answer']>

export interface DefinitionSpec<S extends Schema> {
  type: string
  data: S
  /** An absolute URI naming this version's schema; carried as the CloudEvents `dataschema`. */
  dataschema?: string
  /** A version label; without `dataschema`, the URI `urn:omnibus:schema:<type>:<version>` is used. */
  version?: string
  description?: string
  examples?: readonly InputOf<S>[]
  partitionKey?: (data: OutputOf<S>) => string
}

export interface QuerySpec<S extends Schema, A extends Schema> extends DefinitionSpec<S> {
  answer: A
}

function isSchema(value: unknown): value is Schema {
  const standard = (value as { '~standard'?: { version?: unknown; validate?: unknown } } | null)?.[
    '~standard'
  ]
  return typeof standard?.validate === 'function' && standard.version === 1
}

function define<K extends MessageKind, S extends Schema>(
  kind: K,
  spec: DefinitionSpec<S>,
  answer?: Schema,
): MessageDefinition<K, S> {
  const where = `define${kind[0]!.toUpperCase()}${kind.slice(1)}(${JSON.stringify(spec?.type)})`
  if (typeof spec?.type !== 'string' || spec.type.length === 0) {
    throw new OmnibusError('CONFIG_INVALID', `${where}: type must be a non-empty string`)
  }
  if (!isSchema(spec.data)) {
    throw new OmnibusError(
      'CONFIG_INVALID',
      `${where}: data must be a Standard Schema (zod, valibot, arktype, …), got ${typeof spec.data}`,
    )
  }
  if (kind === 'query' && !isSchema(answer)) {
    throw new OmnibusError('CONFIG_INVALID', `${where}: answer must be a Standard Schema`)
  }
  const dataschema =
    spec.dataschema ??
    (spec.version === undefined ? undefined : `urn:omnibus:schema:${spec.type}:${spec.version}`)
  if (dataschema !== undefined && !URL.canParse(dataschema)) {
    throw new OmnibusError(
      'CONFIG_INVALID',
      `${where}: dataschema must be an absolute URI, got "${dataschema}"`,
    )
  }
  const definition: Record<PropertyKey, unknown> = {
    [definitionMark]: true,
    kind,
    type: spec.type,
    schema: spec.data,
  }
  if (answer) definition.answer = answer
  if (dataschema !== undefined) definition.dataschema = dataschema
  if (spec.version !== undefined) definition.version = spec.version
  if (spec.description !== undefined) definition.description = spec.description
  if (spec.examples !== undefined) definition.examples = spec.examples
  if (spec.partitionKey !== undefined) definition.partitionKey = spec.partitionKey
  return Object.freeze(definition) as unknown as MessageDefinition<K, S>
}

/** An event: something that happened; every subscribing group gets it (`bus.publish` / `bus.on`). */
export const defineEvent = <S extends Schema>(spec: DefinitionSpec<S>): EventDefinition<S> =>
  define('event', spec)

/** A command: a request to act, handled by one instance (`bus.send` / `bus.handle`). */
export const defineCommand = <S extends Schema>(spec: DefinitionSpec<S>): CommandDefinition<S> =>
  define('command', spec)

/** A query and the schema of its answer (`bus.query` / `bus.answer`). */
export const defineQuery = <S extends Schema, A extends Schema>(
  spec: QuerySpec<S, A>,
): QueryDefinition<S, A> => define('query', spec, spec.answer) as QueryDefinition<S, A>

/** Whether `value` is a message definition (what the typed bus overloads take). */
export function isDefinition(value: unknown): value is AnyDefinition {
  return typeof value === 'object' && value !== null && definitionMark in value
}

import type { StandardSchemaV1 } from '@standard-schema/spec'
import { EnvelopeError, type ErrorCode } from '../errors.js'
import type { Schema } from './define.js'

/**
 * Data that does not match its message's schema. `field` is the path of the
 * first issue (`data.items[0].sku`); `issues` has them all, as the schema
 * library reported them.
 */
export class SchemaError extends EnvelopeError {
  override readonly code: ErrorCode = 'SCHEMA_INVALID'
  /** Retrying cannot make the data valid: a handler's consumer dead-letters it at once. */
  readonly retryable = false
  constructor(
    /** The message type whose schema refused the data. */
    readonly type: string,
    readonly issues: readonly StandardSchemaV1.Issue[],
    root = 'data',
  ) {
    const first = issues[0]
    const more =
      issues.length > 1
        ? ` (and ${issues.length - 1} more: ${issues
            .slice(1, 4)
            .map((i) => describeIssue(i, root))
            .join('; ')})`
        : ''
    super(
      first ? pathOf(first, root) : root,
      `${first?.message ?? 'refused by its schema'} (${type})${more}; send data that matches the schema of ${type}`,
    )
  }
}

function segment(key: PropertyKey): string {
  if (typeof key === 'number') return `[${key}]`
  if (typeof key === 'symbol') return `[${key.toString()}]`
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`
}

/** `data.items[0].sku` for an issue at ['items', 0, 'sku']. */
export function pathOf(issue: StandardSchemaV1.Issue, root = 'data'): string {
  let path = root
  for (const part of issue.path ?? []) {
    path += segment(typeof part === 'object' && part !== null ? part.key : part)
  }
  return path
}

function describeIssue(issue: StandardSchemaV1.Issue, root: string): string {
  return `${pathOf(issue, root)}: ${issue.message}`
}

/**
 * Runs `schema` on `value`: its output, or a SchemaError. Synchronous when the
 * schema is (the hot path allocates no promise); a promise when it is async.
 */
export function validate<S extends Schema>(
  schema: S,
  value: unknown,
  type: string,
  root = 'data',
): StandardSchemaV1.InferOutput<S> | Promise<StandardSchemaV1.InferOutput<S>> {
  const result = schema['~standard'].validate(value)
  if (result instanceof Promise) return result.then((r) => outcome(r, type, root))
  return outcome(result, type, root)
}

function outcome<T>(result: StandardSchemaV1.Result<T>, type: string, root: string): T {
  if (result.issues) throw new SchemaError(type, result.issues, root)
  return result.value
}

/** Calls `then` on a value that may be a promise, staying synchronous when it is not. */
export function andThen<T, R>(value: T | Promise<T>, then: (value: T) => R | Promise<R>): R | Promise<R> {
  return value instanceof Promise ? value.then(then) : then(value)
}

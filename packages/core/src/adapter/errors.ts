import { type ErrorCode, OmnibusError } from '../errors.js'
import type { Logger } from '../logger.js'

/**
 * An error's message with that of its innermost cause when it says more (client libraries
 * wrap the socket error that tells what really happened).
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  let inner: unknown = error.cause
  while (inner instanceof Error && inner.cause instanceof Error) inner = inner.cause
  const detail =
    inner instanceof Error && inner.message && inner.message !== error.message ? inner.message : ''
  return detail ? `${error.message} (${detail})` : error.message
}

/**
 * An OmnibusError from an adapter: `[omnibus] [<adapter>] <message>`, with the broker's error
 * as `cause` and its message appended, so the line says what happened and what to do.
 */
export function adapterError(
  adapter: string,
  code: ErrorCode,
  message: string,
  cause?: unknown,
): OmnibusError {
  const detail = cause === undefined ? '' : ` (${describeError(cause)})`
  return new OmnibusError(
    code,
    `[omnibus] [${adapter}] ${message}${detail}`,
    cause === undefined ? undefined : { cause },
  )
}

/** The transport's logger with every message prefixed `[<adapter>] `, so adapters need not spell it. */
export function adapterLogger(logger: Logger, adapter: string): Logger {
  const prefix = `[${adapter}] `
  return {
    debug: (message, fields) => logger.debug(prefix + message, fields),
    info: (message, fields) => logger.info(prefix + message, fields),
    warn: (message, fields) => logger.warn(prefix + message, fields),
    error: (message, fields) => logger.error(prefix + message, fields),
  }
}

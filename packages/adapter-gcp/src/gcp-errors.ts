import { adapterError, type ErrorCode } from '@omnibus/core/adapter'

/** gRPC status codes the transport reacts to. */
export const Status = { NOT_FOUND: 5, ALREADY_EXISTS: 6 } as const

/** The gRPC status of a client error, if it carries one. */
export function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'number' ? code : undefined
}

/** An OmnibusError `[omnibus] [gcp] <message> (<cause>)`. */
export const gcpError = (code: ErrorCode, message: string, cause?: unknown) =>
  adapterError('gcp', code, message, cause)

/** A rejection handler: `value` when the broker answered NOT_FOUND, the error again otherwise. */
export function ifMissing<T>(value: T): (error: unknown) => T {
  return (error) => {
    if (statusOf(error) === Status.NOT_FOUND) return value
    throw error
  }
}

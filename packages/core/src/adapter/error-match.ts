import { errorChain } from './access-errors.js'

/** Node's codes for a socket that could not connect, or was cut. */
const CONNECTION_CODES =
  /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN)$/
/** The same in a message, for clients that keep only the text. */
const CONNECTION_TEXT = /ECONNREFUSED|ECONNRESET|socket hang up/

/**
 * Whether an error in `error`'s chain (see errorChain) names itself one of `names`: by its `name`,
 * or its `code` or `Code` (what broker clients set: SDK exception names, gRPC statuses, AMQP
 * reply codes), so that an adapter's table of broker errors reads as a list of names.
 */
export function errorIs(error: unknown, ...names: readonly (string | number)[]): boolean {
  for (const e of errorChain(error)) {
    if ([e.name, e.code, e.Code].some((value) => names.includes(value as string | number))) return true
  }
  return false
}

/**
 * Whether `error` says the broker could not be reached or the connection was cut (a socket
 * code or its text anywhere in the chain): the broker is down, restarting or away, which is
 * worth waiting for and trying again.
 */
export function isConnectionError(error: unknown): boolean {
  for (const e of errorChain(error)) {
    if (typeof e.code === 'string' && CONNECTION_CODES.test(e.code)) return true
    if (typeof e.message === 'string' && CONNECTION_TEXT.test(e.message)) return true
  }
  return false
}

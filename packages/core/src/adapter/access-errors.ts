import { AccessDeniedError } from '../security/access.js'

/**
 * Telling a refusal (AUTH_FAILED, FORBIDDEN) from other failures. Client libraries wrap the error
 * that says what happened (the socket's TLS code, the broker's reason) in their own, sometimes
 * several times, so adapters look through the whole chain of what a client threw.
 */

/** Every error in a client error's chain: itself, `cause`, `originalError` (kafkajs), an aggregate's `errors`. */
export function* errorChain(error: unknown, depth = 0): Generator<Record<string, unknown>> {
  if (depth > 8 || error === null || typeof error !== 'object') return
  const e = error as Record<string, unknown>
  yield e
  yield* errorChain(e.cause, depth + 1)
  yield* errorChain(e.originalError, depth + 1)
  if (Array.isArray(e.errors)) for (const inner of e.errors) yield* errorChain(inner, depth + 1)
}

/** Node's codes for a TLS peer we do not trust, or one that did not accept us (our certificate). */
const TLS_CODE =
  /^(ERR_SSL_|ERR_TLS_CERT|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_(VERIFY|GET_ISSUER)|HOSTNAME_MISMATCH)/

/** The failed TLS handshake in `error`'s chain (an error whose `code` is one of Node's TLS codes), if any. */
export function tlsFailure(error: unknown): { code: string; message: string } | undefined {
  for (const e of errorChain(error)) {
    if (typeof e.code === 'string' && TLS_CODE.test(e.code))
      return { code: e.code, message: String(e.message) }
  }
  return undefined
}

/**
 * A refusal worded as every adapter words it: `<code> on channel "<channel>": <why>`, where `why`
 * says what the broker refused and what to check (without the secret: a user name, never a
 * password or token). `channel` is the Omnibus channel asked for, absent for the connection.
 */
export function accessDenied(
  transport: string,
  code: 'AUTH_FAILED' | 'FORBIDDEN',
  channel: string | undefined,
  why: string,
  cause: unknown,
): AccessDeniedError {
  const on = channel ? ` on channel "${channel}"` : ''
  return new AccessDeniedError(code, transport, channel, `${code}${on}: ${why}`, { cause })
}

/**
 * AUTH_FAILED for a failed TLS handshake in `error`'s chain (see tlsFailure), saying what to check
 * under the adapter's TLS option `option` (`tls`, `ssl`); undefined when the chain holds none.
 */
export function tlsDenied(
  transport: string,
  option: string,
  channel: string | undefined,
  error: unknown,
): AccessDeniedError | undefined {
  const tls = tlsFailure(error)
  if (!tls) return undefined
  const why =
    `TLS failed (${tls.code}: ${tls.message.split('\n')[0]}); check ${option}.ca/caFile (the broker's CA), ` +
    `the client certificate (${option}.certFile/keyFile: in date, signed by a CA the broker trusts) and ${option}.servername`
  return accessDenied(transport, 'AUTH_FAILED', channel, why, error)
}

import { isIP } from 'node:net'
import type { ConnectionOptions } from 'node:tls'
import { connect } from 'node:tls'
import { AccessDeniedError, ConfigError, type Logger } from '@omnibus/core'
import { secretOption, tlsOptions } from '@omnibus/core/adapter'
import type { SASLOptions } from 'kafkajs'

const MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512', 'oauthbearer'] as const

/** `ssl` as kafkajs takes it: files read, `rejectUnauthorized: false` warned about. */
export function sslOptions(
  key: string,
  value: unknown,
  logger: Logger,
): boolean | ConnectionOptions | undefined {
  if (value === undefined || typeof value === 'boolean') return value
  return tlsOptions(`${key}.ssl`, value, logger, 'kafka')
}

/** `sasl` as kafkajs takes it, the password read from `passwordFile` when given so. */
export function saslOptions(key: string, value: unknown): SASLOptions | undefined {
  if (value === undefined) return undefined
  const sasl = value as Record<string, unknown> | null
  const mechanism = typeof sasl?.mechanism === 'string' ? sasl.mechanism.toLowerCase() : undefined
  if (!sasl || typeof sasl !== 'object' || !MECHANISMS.includes(mechanism as never)) {
    throw new ConfigError(`${key}.sasl.mechanism`, `must be one of ${MECHANISMS.join(', ')}`)
  }
  if (mechanism === 'oauthbearer') {
    if (typeof sasl.oauthBearerProvider !== 'function') {
      throw new ConfigError(
        `${key}.sasl.oauthBearerProvider`,
        'must be a function returning a promise of { value: <token> } (set in code, not in JSON)',
      )
    }
    return { mechanism: 'oauthbearer', oauthBearerProvider: sasl.oauthBearerProvider as never }
  }
  if (typeof sasl.username !== 'string' || sasl.username.length === 0) {
    throw new ConfigError(`${key}.sasl.username`, 'must be a non-empty string')
  }
  const password = secretOption(`${key}.sasl`, sasl, 'password')
  if (password === undefined) throw new ConfigError(`${key}.sasl`, 'needs a password or a passwordFile')
  return { mechanism: mechanism as 'plain', username: sasl.username, password }
}

/** Kafka protocol errors that mean "not allowed", by kafkajs' type name. */
const FORBIDDEN_TYPES = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'DELEGATION_TOKEN_AUTHORIZATION_FAILED',
])

/** Node's codes for a TLS peer we do not trust, or one that did not accept us. */
const TLS_CODE =
  /^(ERR_SSL_|ERR_TLS_CERT|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_(VERIFY|GET_ISSUER)|HOSTNAME_MISMATCH)/

/** Kafka's error name for a protocol error: kafkajs' `type`, @platformatic/kafka's `apiId`. */
const typeOf = (e: Record<string, unknown>): string =>
  typeof e.type === 'string' ? e.type : typeof e.apiId === 'string' ? e.apiId : ''

/** Every Kafka error name and message in an error's chain, to match what happened in either client. */
export const errorText = (error: unknown): string =>
  [...chain(error)].map((e) => `${typeOf(e)} ${String(e.message)}`).join('; ')

/** Every error in a client error's chain (cause, originalError, an aggregate's errors). */
function* chain(error: unknown, depth = 0): Generator<Record<string, unknown>> {
  if (depth > 8 || error === null || typeof error !== 'object') return
  const e = error as Record<string, unknown>
  yield e
  yield* chain(e.cause, depth + 1)
  yield* chain(e.originalError, depth + 1)
  if (Array.isArray(e.errors)) for (const inner of e.errors) yield* chain(inner, depth + 1)
}

/**
 * The AccessDeniedError a kafkajs failure amounts to, or undefined when it is something else.
 * `channel` is the Omnibus channel asked for; the principal is never in the message (it may be a
 * token), the user name is.
 */
export function kafkaAccessError(
  error: unknown,
  channel?: string,
  username?: string,
): AccessDeniedError | undefined {
  const who = username ? `user "${username}"` : 'this client'
  const on = channel ? ` on channel "${channel}"` : ''
  for (const e of chain(error)) {
    const type = typeOf(e)
    if (e.name === 'KafkaJSSASLAuthenticationError' || type === 'SASL_AUTHENTICATION_FAILED') {
      return new AccessDeniedError(
        'AUTH_FAILED',
        'kafka',
        channel,
        `AUTH_FAILED${on}: the broker refused ${who}'s SASL login (${String(e.message)}); check sasl.mechanism, username and password/passwordFile`,
        { cause: error },
      )
    }
    // kafkajs rewraps some protocol errors as non-retriable ones that keep only the message.
    if (FORBIDDEN_TYPES.has(type) || /^Not authorized to access/.test(String(e.message))) {
      return new AccessDeniedError(
        'FORBIDDEN',
        'kafka',
        channel,
        `FORBIDDEN${on}: ${who} has no ACL for it (${type || String(e.message)}); ask for an ACL on the topic (and the consumer group) or use another channel`,
        { cause: error },
      )
    }
    if (typeof e.code === 'string' && TLS_CODE.test(e.code)) {
      return new AccessDeniedError(
        'AUTH_FAILED',
        'kafka',
        channel,
        `AUTH_FAILED${on}: TLS failed (${e.code}: ${String(e.message).split('\n')[0]}); check ssl.ca/caFile (the broker's CA), the client certificate and servername`,
        { cause: error },
      )
    }
  }
  return undefined
}

/**
 * One TLS handshake with the first broker that answers, before kafkajs connects: kafkajs
 * counts a certificate failure as a connection error and retries it for its whole retry
 * budget (35 s by default), which a certificate never survives. A broker that does not answer
 * is left to kafkajs' own retries.
 */
export async function tlsPreflight(
  brokers: readonly string[],
  ssl: boolean | ConnectionOptions | undefined,
): Promise<void> {
  if (!ssl || brokers.length === 0) return
  const options = ssl === true ? {} : ssl
  for (const broker of brokers) {
    const at = broker.lastIndexOf(':')
    const host = broker.slice(0, at)
    const outcome = await new Promise<Error | undefined>((resolve) => {
      const socket = connect({
        ...options,
        host,
        port: Number(broker.slice(at + 1)),
        servername: options.servername ?? (isIP(host) ? undefined : host),
        timeout: 10_000,
      })
      socket.once('secureConnect', () => {
        socket.destroy()
        resolve(undefined)
      })
      socket.once('error', (error) => {
        socket.destroy()
        resolve(error)
      })
      socket.once('timeout', () => {
        socket.destroy()
        resolve(new Error('timed out'))
      })
    })
    if (!outcome) return
    const code = (outcome as NodeJS.ErrnoException).code
    if (typeof code === 'string' && TLS_CODE.test(code)) throw kafkaAccessError(outcome)
  }
}

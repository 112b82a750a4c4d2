import { type AccessDeniedError, ConfigError } from '@omnibus/core'
import { accessDenied, errorChain, secretOption, tlsFailure } from '@omnibus/core/adapter'
import type { SASLOptions } from 'kafkajs'

const MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512', 'oauthbearer'] as const

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

/** Kafka's error name for a protocol error: kafkajs' `type`, @platformatic/kafka's `apiId`. */
const typeOf = (e: Record<string, unknown>): string =>
  typeof e.type === 'string' ? e.type : typeof e.apiId === 'string' ? e.apiId : ''

/** Every Kafka error name and message in an error's chain, to match what happened in either client. */
export const errorText = (error: unknown): string =>
  [...errorChain(error)].map((e) => `${typeOf(e)} ${String(e.message)}`).join('; ')

/**
 * The AccessDeniedError a client's failure amounts to, or undefined when it is something else.
 * `channel` is the Omnibus channel asked for; the principal is never in the message (it may be a
 * token), the user name is.
 */
export function kafkaAccessError(
  error: unknown,
  channel: string | undefined,
  sasl: SASLOptions | undefined,
): AccessDeniedError | undefined {
  const who = sasl && 'username' in sasl ? `user "${sasl.username}"` : 'this client'
  for (const e of errorChain(error)) {
    const type = typeOf(e)
    // ILLEGAL_SASL_STATE: @platformatic/kafka answers a refused OAUTHBEARER token with its next
    // request instead of ending the exchange (RFC 7628 §3.2.2), which the broker rejects as such.
    const refusedToken = type === 'ILLEGAL_SASL_STATE' && sasl?.mechanism === 'oauthbearer'
    if (
      e.name === 'KafkaJSSASLAuthenticationError' ||
      type === 'SASL_AUTHENTICATION_FAILED' ||
      refusedToken
    ) {
      const check =
        sasl?.mechanism === 'oauthbearer'
          ? "the token oauthBearerProvider returns (its signature, issuer, audience, expiry and the broker's JWKS)"
          : 'sasl.mechanism, username and password/passwordFile'
      const why = `the broker refused ${who}'s SASL login (${String(e.message)}); check ${check}`
      return accessDenied('kafka', 'AUTH_FAILED', channel, why, error)
    }
    // kafkajs rewraps some protocol errors as non-retriable ones that keep only the message.
    if (FORBIDDEN_TYPES.has(type) || /^Not authorized to access/.test(String(e.message))) {
      const why = `${who} has no ACL for it (${type || String(e.message)}); ask for an ACL on the topic (and the consumer group) or use another channel`
      return accessDenied('kafka', 'FORBIDDEN', channel, why, error)
    }
  }
  const tls = tlsFailure(error)
  if (!tls) return undefined
  const why = `TLS failed (${tls.code}: ${tls.message.split('\n')[0]}); check ssl.ca/caFile (the broker's CA), the client certificate and servername`
  return accessDenied('kafka', 'AUTH_FAILED', channel, why, error)
}

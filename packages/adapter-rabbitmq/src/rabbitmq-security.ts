import { AccessDeniedError } from '@omnibus/core'
import type { RabbitMQSettings } from './rabbitmq-config.js'
import { errorMessage, replyCode } from './rabbitmq-errors.js'

/** Node's codes for a TLS peer we do not trust, or one that did not accept our certificate. */
const TLS_CODE =
  /^(ERR_SSL_|ERR_TLS_CERT|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_(VERIFY|GET_ISSUER)|HOSTNAME_MISMATCH)/

/**
 * The AccessDeniedError an amqplib failure amounts to, or undefined. `channel` is the Omnibus
 * channel asked for (absent for the connection itself).
 */
export function rabbitAccessError(
  error: unknown,
  settings: RabbitMQSettings,
  channel?: string,
): AccessDeniedError | undefined {
  const inner = (error as { cause?: unknown } | null)?.cause ?? error
  const message = errorMessage(inner)
  const on = channel ? ` on channel "${channel}"` : ''
  const who =
    settings.auth.mechanism === 'EXTERNAL' ? 'the client certificate' : `user "${settings.auth.username}"`
  const vhost = decodeURIComponent(new URL(settings.url).pathname.slice(1) || '/')
  const code = (inner as { code?: unknown }).code
  if (typeof code === 'string' && TLS_CODE.test(code)) {
    return new AccessDeniedError(
      'AUTH_FAILED',
      'rabbitmq',
      channel,
      `AUTH_FAILED${on}: TLS failed (${code}: ${message.split('\n')[0]}); check tls.ca/caFile (the broker's CA) and the client certificate (tls.certFile/keyFile: in date, signed by a CA the broker trusts)`,
      { cause: error },
    )
  }
  if (/ACCESS[-_]REFUSED - Login was refused/.test(message)) {
    return new AccessDeniedError(
      'AUTH_FAILED',
      'rabbitmq',
      channel,
      `AUTH_FAILED${on}: the broker refused ${who} (${settings.auth.mechanism}); check username and password/passwordFile, or for EXTERNAL that the certificate's name is a user`,
      { cause: error },
    )
  }
  // amqplib reports a refused vhost only as the broker closing the connection during the open.
  if (
    /^Expected ConnectionOpenOk; got <ConnectionClose/.test(message) ||
    /NOT_ALLOWED - access to vhost/.test(message)
  ) {
    return new AccessDeniedError(
      'FORBIDDEN',
      'rabbitmq',
      channel,
      `FORBIDDEN${on}: ${who} may not use vhost "${vhost}" (or it does not exist); ask for permissions there or use the user's vhost`,
      { cause: error },
    )
  }
  if (replyCode(inner) === 403 || /ACCESS[-_]REFUSED/.test(message)) {
    return new AccessDeniedError(
      'FORBIDDEN',
      'rabbitmq',
      channel,
      `FORBIDDEN${on}: ${who} lacks the configure/write/read permission for it in vhost "${vhost}" (${message.replace(/^.*ACCESS_REFUSED - /, '')}); ask for permissions matching the name or use another channel`,
      { cause: error },
    )
  }
  return undefined
}

import { accessDenied, errorIs, errorMessage, tlsDenied } from '@omnibus/core/adapter'
import type { RabbitMQSettings } from './rabbitmq-config.js'

/**
 * The AccessDeniedError (AUTH_FAILED or FORBIDDEN, saying what to check) an amqplib failure amounts
 * to, or undefined. `channel` is the Omnibus channel asked for (absent for the connection itself).
 */
export function rabbitAccessError(error: unknown, settings: RabbitMQSettings, channel?: string) {
  const message = errorMessage((error as { cause?: unknown } | null)?.cause ?? error)
  const deny = (code: 'AUTH_FAILED' | 'FORBIDDEN', why: string) =>
    accessDenied('rabbitmq', code, channel, why, error)
  const who =
    settings.auth.username === undefined ? 'the client certificate' : `user "${settings.auth.username}"`
  const tls = tlsDenied('rabbitmq', 'tls', channel, error)
  if (tls) return tls
  if (/ACCESS[-_]REFUSED - Login was refused/.test(message))
    return deny(
      'AUTH_FAILED',
      `the broker refused ${who} (${settings.auth.mechanism}); check username and password/passwordFile, ` +
        "or for EXTERNAL that the certificate's name is a user",
    )
  // amqplib reports a refused vhost only as the broker closing the connection during the open.
  if (/^Expected ConnectionOpenOk; got <ConnectionClose|NOT_ALLOWED - access to vhost/.test(message))
    return deny(
      'FORBIDDEN',
      `${who} may not use vhost "${settings.vhost}" (or it does not exist); ask for permissions there or use the user's vhost`,
    )
  if (errorIs(error, 403) || /ACCESS[-_]REFUSED/.test(message))
    return deny(
      'FORBIDDEN',
      `${who} lacks the configure/write/read permission for it in vhost "${settings.vhost}" ` +
        `(${message.replace(/^.*ACCESS_REFUSED - /, '')}); ask for permissions matching the name or use another channel`,
    )
  return undefined
}

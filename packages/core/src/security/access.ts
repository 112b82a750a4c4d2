import { OmnibusError } from '../errors.js'

/**
 * The broker refused who we are (AUTH_FAILED: wrong password, unknown user, a certificate it
 * does not accept, or one we do not accept from it) or what we asked for (FORBIDDEN: no ACL or
 * permission for a topic, queue, group or vhost). Neither gets better by retrying, so adapters
 * throw it at once instead of retrying; `channel` names what was asked for, when it was one.
 */
export class AccessDeniedError extends OmnibusError {
  override readonly name = 'AccessDeniedError'
  constructor(
    code: 'AUTH_FAILED' | 'FORBIDDEN',
    readonly transport: string,
    readonly channel: string | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, `[omnibus] [${transport}] ${message}`, options)
  }
}

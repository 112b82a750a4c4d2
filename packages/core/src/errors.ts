/**
 * Every error Omnibus throws is an OmnibusError with a stable `code` that callers
 * may switch on; the message says what to do, and the broker's own error, when
 * there is one, travels as `cause`.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'ENVELOPE_INVALID'
  | 'SCHEMA_INVALID'
  | 'TRANSPORT_CLOSED'
  | 'TRANSPORT_UNAVAILABLE'
  | 'PUBLISH_FAILED'
  | 'MESSAGE_TOO_LARGE'
  | 'PROVISIONING_FAILED'
  | 'CHANNEL_NOT_FOUND'
  | 'QUERY_TIMEOUT'
  | 'QUERY_FAILED'
  | 'BUS_STATE'
  | 'ADAPTER_NOT_FOUND'
  | 'STORE_FAILED'
  | 'ARGUMENT_INVALID'
  | 'NON_RETRYABLE'
  | 'HANDLER_TIMEOUT'
  | 'AUTH_FAILED'
  | 'FORBIDDEN'
  | 'ENCRYPTION_FAILED'

export class OmnibusError extends Error {
  override readonly name: string = 'OmnibusError'
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message.startsWith('[omnibus]') ? message : `[omnibus] ${message}`, options)
  }
}

/** A config that cannot work; `key` is the dotted path of the offending entry. */
export class ConfigError extends OmnibusError {
  override readonly name = 'ConfigError'
  constructor(
    readonly key: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('CONFIG_INVALID', `config ${key}: ${message}`, options)
  }
}

/** An envelope that is not a valid CloudEvent; `field` names the attribute. */
export class EnvelopeError extends OmnibusError {
  override readonly name = 'EnvelopeError'
  constructor(
    readonly field: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('ENVELOPE_INVALID', `envelope ${field}: ${message}`, options)
  }
}

/** A message larger than the transport accepts; nothing was sent. */
export class MessageTooLargeError extends OmnibusError {
  override readonly name = 'MessageTooLargeError'
  constructor(
    readonly transport: string,
    readonly limit: number,
    readonly size: number,
    readonly eventId: string,
  ) {
    super(
      'MESSAGE_TOO_LARGE',
      `[${transport}] event ${eventId} is ${size} bytes, over the transport's limit of ${limit} bytes ` +
        '(maxMessageBytes); nothing was sent. Send a reference to the payload instead, or raise the limit where the broker allows it.',
    )
  }
}

/** A query that got no answer within its timeout. */
export class QueryTimeoutError extends OmnibusError {
  override readonly name = 'QueryTimeoutError'
  constructor(
    readonly type: string,
    readonly timeoutMs: number,
  ) {
    super(
      'QUERY_TIMEOUT',
      `query ${type} got no answer within ${timeoutMs} ms: is a service answering it (bus.answer) and running?`,
    )
  }
}

/** The answering handler threw; `message` carries its error message. */
export class QueryFailedError extends OmnibusError {
  override readonly name = 'QueryFailedError'
  constructor(
    readonly type: string,
    readonly remoteMessage: string,
  ) {
    super('QUERY_FAILED', remoteMessage)
    // The answering handler's message is what the caller wants to see, unprefixed.
    this.message = remoteMessage
  }
}

/** A bus method was called with an argument it cannot use; `argument` names it (e.g. `options.timeoutMs`). */
export class ArgumentError extends OmnibusError {
  override readonly name = 'ArgumentError'
  constructor(
    readonly argument: string,
    message: string,
  ) {
    super('ARGUMENT_INVALID', `argument ${argument}: ${message}`)
  }
}

/**
 * Thrown by a handler to say that retrying cannot help (the message itself is
 * wrong): the message goes to the dead-letter channel at once, with this reason.
 * Any error with `retryable: false` is treated the same.
 */
export class NonRetryableError extends OmnibusError {
  override readonly name = 'NonRetryableError'
  readonly retryable = false
  constructor(message: string, options?: { cause?: unknown }) {
    super('NON_RETRYABLE', message, options)
    // The handler's reason is what the dead letter should say, unprefixed.
    this.message = message
  }
}

/** A handler ran past its `timeoutMs`: its signal was aborted and the attempt counts as failed. */
export class HandlerTimeoutError extends OmnibusError {
  override readonly name = 'HandlerTimeoutError'
  constructor(
    readonly type: string,
    readonly timeoutMs: number,
  ) {
    super('HANDLER_TIMEOUT', `the ${type} handler did not finish within its timeoutMs of ${timeoutMs} ms`)
  }
}

/** Whether a handler's error says that retrying cannot help. */
export const isNonRetryable = (error: unknown): boolean =>
  error instanceof NonRetryableError ||
  (typeof error === 'object' && error !== null && (error as { retryable?: unknown }).retryable === false)

/** A readable reason for anything thrown: an Error's message, a string, or JSON of a plain value. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message
  if (typeof error === 'string') return error
  if (typeof error === 'object' && error !== null) {
    const message = (error as { message?: unknown }).message
    if (typeof message === 'string') return message
    try {
      const json = JSON.stringify(error)
      if (json !== undefined && json !== '{}') return json
    } catch {
      // A cycle or a BigInt: fall back to the constructor's name.
    }
    return `a thrown ${error.constructor?.name ?? 'object'} (not an Error)`
  }
  return String(error)
}

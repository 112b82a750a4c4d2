import type { Logger } from '../logger.js'

/** A logger that takes its fields first and its message second (pino, bunyan). */
export interface FieldsFirstLogger {
  debug(fields: Record<string, unknown>, message: string): void
  info(fields: Record<string, unknown>, message: string): void
  warn(fields: Record<string, unknown>, message: string): void
  error(fields: Record<string, unknown>, message: string): void
}

/**
 * pino's loggers carry `Symbol.for('pino.serializers')`; their methods read an
 * object first and a message second (a string first is a format string, and
 * Omnibus's fields would be dropped), so they are adapted, not called as they are.
 */
function isPino(value: object): boolean {
  return Symbol.for('pino.serializers') in value
}

/** Adapts a fields-first logger (pino, bunyan) to Omnibus's message-first Logger. */
export function fromFieldsFirst(logger: FieldsFirstLogger): Logger {
  return {
    debug: (m, f) => logger.debug(f ?? {}, m),
    info: (m, f) => logger.info(f ?? {}, m),
    warn: (m, f) => logger.warn(f ?? {}, m),
    error: (m, f) => logger.error(f ?? {}, m),
  }
}

/** The logger option as given: an Omnibus Logger, or a pino logger taken as it is. */
export function asLogger(logger: Logger): Logger {
  return isPino(logger) ? fromFieldsFirst(logger as unknown as FieldsFirstLogger) : logger
}

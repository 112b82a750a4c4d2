/** The logger Omnibus writes to. Quiet unless the user passes one. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void
  info(message: string, fields?: Record<string, unknown>): void
  warn(message: string, fields?: Record<string, unknown>): void
  error(message: string, fields?: Record<string, unknown>): void
}

const noop = (): void => {}

export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop }

const levels = ['debug', 'info', 'warn', 'error'] as const
export type LogLevel = (typeof levels)[number]

/** A logger that writes one line per record to stderr, at or above `level`. */
export function consoleLogger(level: LogLevel = 'info'): Logger {
  const min = levels.indexOf(level)
  const at =
    (lvl: LogLevel) =>
    (message: string, fields?: Record<string, unknown>): void => {
      if (levels.indexOf(lvl) < min) return
      const extra = fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : ''
      process.stderr.write(`${new Date().toISOString()} ${lvl} ${message}${extra}\n`)
    }
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}

/** A logger that adds fixed fields to every record. */
export function childLogger(parent: Logger, fields: Record<string, unknown>): Logger {
  if (parent === silentLogger) return parent
  const merge = (f?: Record<string, unknown>) => (f ? { ...fields, ...f } : fields)
  return {
    debug: (m, f) => parent.debug(m, merge(f)),
    info: (m, f) => parent.info(m, merge(f)),
    warn: (m, f) => parent.warn(m, merge(f)),
    error: (m, f) => parent.error(m, merge(f)),
  }
}

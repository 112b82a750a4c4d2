import type { Logger } from '@omnibus/core'
import { context, isSpanContextValid, trace } from '@opentelemetry/api'
import { MESSAGE_KEY, type MessageFields } from './tracing.js'

type Fields = Record<string, unknown>

/**
 * Adds to every line the active trace and span ids (`trace_id`, `span_id`,
 * `trace_flags`, the names OpenTelemetry's log correlation uses) and, inside a
 * process span, the message's `id` and `type` (channel and group come from the
 * consumer's own fields).
 */
export function joinedLogger(logger: Logger): Logger {
  const fields = (given: Fields | undefined): Fields | undefined => {
    const active = context.active()
    const span = trace.getSpanContext(active)
    if (!span || !isSpanContextValid(span)) return given
    const message = active.getValue(MESSAGE_KEY) as MessageFields | undefined
    return {
      ...(message ? { id: message.id, type: message.type } : {}),
      ...given,
      trace_id: span.traceId,
      span_id: span.spanId,
      trace_flags: `0${span.traceFlags.toString(16)}`,
    }
  }
  return {
    debug: (m, f) => logger.debug(m, fields(f)),
    info: (m, f) => logger.info(m, fields(f)),
    warn: (m, f) => logger.warn(m, fields(f)),
    error: (m, f) => logger.error(m, fields(f)),
  }
}

/** @omnibus/opentelemetry: OpenTelemetry traces, metrics, backlog gauges and trace-joined logs for an Omnibus bus. */

import type { Instrumentation, Logger } from '@omnibus/core'
import { type MeterProvider, metrics, type TracerProvider, trace } from '@opentelemetry/api'
import { Backlog } from './backlog.js'
import { joinedLogger } from './logs.js'
import { Metrics } from './metrics.js'
import { type ProcessParent, Tracing } from './tracing.js'

export { joinedLogger } from './logs.js'
export { SEMCONV_VERSION } from './semconv.js'
export { errorType, type ProcessParent } from './tracing.js'

const SCOPE = '@omnibus/opentelemetry'
const VERSION = '0.1.0'

export interface OpenTelemetryOptions {
  /** Where spans go. Default: the global provider (`trace.setGlobalTracerProvider`, or what the SDK registered). */
  tracerProvider?: TracerProvider
  /** Where metrics go. Default: the global provider. */
  meterProvider?: MeterProvider
  /**
   * How a `process` span relates to the `send` span of the message it handles.
   * `producer` (default): its child, and linked to it, so one conversation (an
   * order and all its follow-ups) is one trace. `link`: a trace of its own that
   * links to the producer, for consumers that fan in from many producers (the
   * conventions' alternative; follow-ups are then children of the process span).
   */
  processParent?: ProcessParent
  /**
   * Silences the broker client's own instrumentation (`instrumentation-kafkajs`,
   * `-amqplib`, `-aws-sdk`) inside Omnibus's send spans, so a message has one send
   * span and one traceparent. Default true.
   */
  suppressClientSpans?: boolean
}

/**
 * The bus instrumentation (`createBus({ ..., instrumentation: openTelemetry() })`).
 * With no OpenTelemetry SDK registered, the API's no-op tracer and meter make
 * every hook a pass-through: nothing is recorded.
 */
export function openTelemetry(options: OpenTelemetryOptions = {}): Instrumentation {
  const tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(SCOPE, VERSION)
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(SCOPE, VERSION)
  const counts = new Metrics(meter)
  const tracing = new Tracing(tracer, counts, {
    processParent: options.processParent ?? 'producer',
    suppressClientSpans: options.suppressClientSpans ?? true,
  })
  let logger: Logger | undefined
  const backlog = new Backlog(meter, () => logger)
  return {
    send: (to, kind, events, publish) => tracing.send(to, kind, events, publish),
    process: (from, event, count, handle) => tracing.process(from, event, count, handle),
    query: (to, query, ask) => tracing.query(to, query, ask),
    malformed: (from) => counts.malformed(from),
    subscribed: (from) => backlog.watch(from),
    logger: (given) => {
      logger = joinedLogger(given)
      return logger
    },
  }
}

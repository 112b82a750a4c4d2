/** @omnibus/opentelemetry: OpenTelemetry traces, metrics, backlog gauges and trace-joined logs for an Omnibus bus. */

import { type Logger, silentLogger } from '@omnibus/core'
import type { Instrumentation, MessagingSource } from '@omnibus/core/adapter'
import type { MeterProvider, TracerProvider } from '@opentelemetry/api'
import { Backlog } from './backlog.js'
import { joinedLogger } from './logs.js'
import { Metrics } from './metrics.js'
import {
  meterProvider,
  NOOP_METER_PROVIDER,
  NOOP_TRACER_PROVIDER,
  type Providers,
  tracerProvider,
} from './providers.js'
import { type ProcessParent, Tracing } from './tracing.js'

export { joinedLogger } from './logs.js'
export { SEMCONV_VERSION } from './semconv.js'
export { errorType, type ProcessParent } from './tracing.js'

export interface OpenTelemetryOptions extends Providers {
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

const SCOPE = '@omnibus/opentelemetry'
const VERSION = '0.1.0'

const NO_HOOKS = { retrying() {}, deadLettered() {}, failed() {} }

/**
 * The bus instrumentation (`createBus({ ..., instrumentation: openTelemetry() })`).
 * While no OpenTelemetry SDK is registered (neither a tracer nor a meter provider),
 * every hook passes straight through: nothing is recorded, nothing allocated. An
 * SDK registered later is picked up at the next message.
 */
export function openTelemetry(options: OpenTelemetryOptions = {}): Instrumentation {
  const settings = {
    processParent: options.processParent ?? 'producer',
    suppressClientSpans: options.suppressClientSpans ?? true,
  }
  let logger: Logger | undefined
  const watched = new Map<MessagingSource, () => void>()
  let tracers: TracerProvider | undefined
  let meters: MeterProvider | undefined
  let tracing: Tracing | undefined
  let backlog: Backlog | undefined
  /** The tracing for the providers registered now; undefined while there is no SDK (two look-ups). */
  const active = (): Tracing | undefined => {
    const t = tracerProvider(options)
    const m = meterProvider(options)
    if (t === tracers && m === meters) return tracing
    tracers = t
    meters = m
    const sdk = t !== NOOP_TRACER_PROVIDER || m !== NOOP_METER_PROVIDER
    const meter = m.getMeter(SCOPE, VERSION)
    tracing = sdk ? new Tracing(t.getTracer(SCOPE, VERSION), new Metrics(meter), settings) : undefined
    backlog = sdk ? new Backlog(meter, () => logger) : undefined
    for (const [source, unwatch] of watched) {
      unwatch()
      watched.set(source, backlog?.watch(source) ?? (() => {}))
    }
    return tracing
  }
  return {
    send: (to, kind, events, publish) => {
      const tracing = active()
      return tracing ? tracing.send(to, kind, events, publish) : publish(events)
    },
    sendOne: (to, kind, traceparent, make, publish) => {
      const tracing = active()
      return tracing ? tracing.sendOne(to, kind, traceparent, make, publish) : publish([make(undefined)])
    },
    process: (from, event, count, handle) => {
      const tracing = active()
      return tracing ? tracing.process(from, event, count, handle) : handle(NO_HOOKS)
    },
    query: (to, query, ask) => {
      const tracing = active()
      return tracing ? tracing.query(to, query, ask) : ask()
    },
    malformed: (from) => active()?.malformed(from),
    authorization: (record) => active()?.authorization(record),
    subscribed: (from) => {
      if (!from.backlog) return undefined
      active()
      watched.set(from, backlog?.watch(from) ?? (() => {}))
      return () => {
        watched.get(from)?.()
        watched.delete(from)
      }
    },
    logger: (given) => {
      // A bus that logs nowhere keeps core's silent logger (its children cost nothing).
      if (given === silentLogger) return given
      logger = joinedLogger(given)
      return logger
    },
  }
}

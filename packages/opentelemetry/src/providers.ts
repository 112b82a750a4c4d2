import {
  type MeterProvider,
  metrics,
  ProxyTracerProvider,
  type TracerProvider,
  trace,
} from '@opentelemetry/api'

export interface Providers {
  /** Where spans go. Default: the global provider (what the SDK registered). */
  tracerProvider?: TracerProvider
  /** Where metrics go. Default: the global provider. */
  meterProvider?: MeterProvider
}

/** What the API hands out while no SDK is registered. */
export const NOOP_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate()
export const NOOP_METER_PROVIDER = metrics.getMeterProvider()

/** The tracer provider behind the global proxy (the no-op one until an SDK registers). */
export function tracerProvider(options: Providers): TracerProvider {
  if (options.tracerProvider) return options.tracerProvider
  const global = trace.getTracerProvider()
  return global instanceof ProxyTracerProvider ? global.getDelegate() : global
}

export function meterProvider(options: Providers): MeterProvider {
  return options.meterProvider ?? metrics.getMeterProvider()
}

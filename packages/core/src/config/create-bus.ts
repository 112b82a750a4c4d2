import { Bus } from '../bus/bus.js'
import { defaultRetry } from '../bus/retry.js'
import { ConfigError, errorMessage, OmnibusError } from '../errors.js'
import { silentLogger } from '../logger.js'
import { Router } from '../routing/router.js'
import { busSecurity } from '../security/secured-transport.js'
import { asLogger } from '../telemetry/logger.js'
import { GuardedTransport } from '../transport/guarded.js'
import type { Transport } from '../transport/transport.js'
import { resolveAdapter } from './adapters.js'
import { checkOptions, guessText, isObject, isText } from './check.js'
import { type BusConfig, configFromEnv, isTransport, readConfigFile, validateConfig } from './config.js'

/** Options of an adapter that declares no OptionSpecs: environment text read as JSON where it parses. */
function untext(options: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(options)) {
    out[key] =
      typeof value === 'string' && isText(options, key)
        ? guessText(value)
        : isObject(value) && value.constructor === Object
          ? untext(value)
          : value
  }
  return out
}

/**
 * Builds a bus from a config object, a JSON file path, or (with no argument)
 * the environment (`OMNIBUS_CONFIG`, `OMNIBUS_*`). Every problem with the config
 * (unknown adapter, missing option, route to nowhere, malformed file) fails here,
 * naming the key; nothing connects until `start()`.
 */
export async function createBus(input?: BusConfig | string): Promise<Bus> {
  const raw: unknown =
    typeof input === 'string' ? readConfigFile(input) : input === undefined ? configFromEnv() : input
  if (raw === undefined) {
    throw new ConfigError(
      '(root)',
      'no config given: pass one to createBus, or set OMNIBUS_CONFIG to a JSON file',
    )
  }
  const config = validateConfig(raw)
  const given = config.logger ? asLogger(config.logger) : silentLogger
  const instrumentation = config.instrumentation
  const logger = instrumentation?.logger ? instrumentation.logger(given) : given
  const transports = new Map<string, GuardedTransport>()
  const security = busSecurity({ ...config, logger })
  for (const [name, spec] of Object.entries(config.transports)) {
    let transport: Transport
    if (isTransport(spec)) transport = spec
    else {
      const key = `transports.${name}`
      const adapter = await resolveAdapter(spec.adapter, `${key}.adapter`)
      const { adapter: _, ...options } = adapter.options
        ? checkOptions({ adapter: { type: 'string' }, ...adapter.options }, spec, key)
        : untext(spec)
      try {
        transport = adapter.create(options, { key, service: config.service, logger })
      } catch (error) {
        if (error instanceof OmnibusError) throw error
        throw new ConfigError(key, `adapter "${spec.adapter}" refused its options: ${errorMessage(error)}`, {
          cause: error,
        })
      }
    }
    const secured = security.wrap(transport, name, isTransport(spec) ? undefined : spec)
    transports.set(name, new GuardedTransport(secured, name))
  }
  const delivery = config.delivery ?? {}
  const maxAttempts = delivery.maxAttempts ?? defaultRetry.maxAttempts
  const defaultTransport = config.defaultTransport ?? Object.keys(config.transports)[0]!
  return new Bus({
    service: config.service,
    source: config.source ?? `urn:omnibus:${config.service}`,
    transports,
    router: new Router(config.routes ?? [], defaultTransport),
    retry: {
      maxAttempts,
      initialDelayMs: delivery.initialDelayMs ?? defaultRetry.initialDelayMs,
      maxDelayMs: delivery.maxDelayMs ?? defaultRetry.maxDelayMs,
      factor: defaultRetry.factor,
    },
    maxInFlight: delivery.maxInFlight ?? 16,
    queryTimeoutMs: delivery.queryTimeoutMs ?? 5000,
    stopTimeoutMs: delivery.stopTimeoutMs ?? 10_000,
    maxDeliveries: delivery.maxDeliveries ?? maxAttempts + 10,
    logger,
    ...(instrumentation ? { instrumentation } : {}),
  })
}

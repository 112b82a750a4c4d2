import { Bus } from '../bus/bus.js'
import { defaultRetry } from '../bus/retry.js'
import { ConfigError } from '../errors.js'
import { silentLogger } from '../logger.js'
import { Router } from '../routing/router.js'
import { GuardedTransport } from '../transport/guarded.js'
import type { Transport } from '../transport/transport.js'
import { resolveAdapter } from './adapters.js'
import { type BusConfig, configFromEnv, isTransport, readConfigFile, validateConfig } from './config.js'

/**
 * Builds a bus from a config object, a JSON file path, or (with no argument)
 * the environment (`OMNIBUS_CONFIG`, `OMNIBUS_*`). Every problem with the config
 * (unknown adapter, missing option, route to nowhere, malformed file) fails here,
 * naming the key; nothing connects until `start()`.
 */
export async function createBus(config?: BusConfig | string): Promise<Bus> {
  const raw: unknown =
    typeof config === 'string' ? readConfigFile(config) : config === undefined ? configFromEnv() : config
  if (raw === undefined) {
    throw new ConfigError(
      '(root)',
      'no config given: pass one to createBus, or set OMNIBUS_CONFIG to a JSON file',
    )
  }
  validateConfig(raw)
  const logger = raw.logger ?? silentLogger
  const transports = new Map<string, GuardedTransport>()
  for (const [name, spec] of Object.entries(raw.transports)) {
    let transport: Transport
    if (isTransport(spec)) transport = spec
    else {
      const { adapter: adapterName, ...options } = spec
      const adapter = await resolveAdapter(adapterName, `transports.${name}.adapter`)
      transport = adapter.create(options, { key: `transports.${name}`, service: raw.service, logger })
    }
    transports.set(name, new GuardedTransport(transport, name))
  }
  const delivery = raw.delivery ?? {}
  const defaultTransport = raw.defaultTransport ?? Object.keys(raw.transports)[0]!
  return new Bus({
    service: raw.service,
    source: raw.source ?? `urn:omnibus:${raw.service}`,
    transports,
    router: new Router(raw.routes ?? [], defaultTransport),
    retry: {
      maxAttempts: delivery.maxAttempts ?? defaultRetry.maxAttempts,
      initialDelayMs: delivery.initialDelayMs ?? defaultRetry.initialDelayMs,
      maxDelayMs: delivery.maxDelayMs ?? defaultRetry.maxDelayMs,
      factor: defaultRetry.factor,
    },
    maxInFlight: delivery.maxInFlight ?? 16,
    queryTimeoutMs: delivery.queryTimeoutMs ?? 5000,
    stopTimeoutMs: delivery.stopTimeoutMs ?? 10_000,
    logger,
  })
}

import { readFileSync } from 'node:fs'
import type { MessageKind } from '../envelope/envelope.js'
import { ConfigError, errorMessage } from '../errors.js'
import type { Logger } from '../logger.js'
import type { Route } from '../routing/router.js'
import type { EncryptionConfig } from '../security/encryption.js'
import type { TenantConfig } from '../security/tenant.js'
import type { Instrumentation } from '../telemetry/instrumentation.js'
import type { Transport } from '../transport/transport.js'
import { checkOptions, fromText, isObject, markText, nearest, type OptionSpecs } from './check.js'

/** A transport named in config: the adapter's name plus its own options. */
export interface TransportSpec {
  /** `memory`, `kafka`, `rabbitmq`, `aws`, `gcp`, or any adapter registered with `registerAdapter`. */
  adapter: string
  [option: string]: unknown
}

export interface DeliveryConfig {
  /** Attempts per message before it is dead-lettered, the first included. Default 3. */
  maxAttempts?: number
  /** First retry delay in ms; doubles per attempt, with jitter. Default 100. */
  initialDelayMs?: number
  /** Ceiling of a retry delay in ms. Default 10000. */
  maxDelayMs?: number
  /** Handlers running at once per subscription. Default 16. */
  maxInFlight?: number
  /** Default query timeout in ms. Default 5000. */
  queryTimeoutMs?: number
  /** How long stop() waits for running handlers. Default 10000. */
  stopTimeoutMs?: number
  /**
   * How often the broker may hand out one message before core dead-letters it
   * unhandled, as one that keeps killing its consumer. Brokers count every
   * delivery, also those given back unhandled at a stop or rebalance, so this
   * sits above maxAttempts. Default: maxAttempts + 10.
   */
  maxDeliveries?: number
}

/** Everything `createBus` needs. As an object, a JSON file, or environment variables. */
export interface BusConfig {
  /** The service's name: the default consumer group, and part of the default `source`. */
  service: string
  /** CloudEvents `source` of what this service sends. Default `urn:omnibus:<service>`. */
  source?: string
  /** Named transports: a spec (`{ "adapter": "kafka", ... }`) or an already-built Transport. */
  transports: Record<string, TransportSpec | Transport>
  /** Which messages go where; the first match wins. */
  routes?: Route[]
  /** Where unrouted messages go. Required when there is more than one transport. */
  defaultTransport?: string
  delivery?: DeliveryConfig
  /** Where Omnibus logs: a Logger (`consoleLogger()`) or a pino logger as it is. Default: nowhere. */
  logger?: Logger
  /** Tracing and metrics hooks, e.g. `openTelemetry()` from `@omnibus/opentelemetry`. */
  instrumentation?: Instrumentation
  /** End-to-end payload encryption of every transport (README, Security). Default: off. */
  encryption?: EncryptionConfig
  /** Scopes the bus to one tenant: `tenantid` on every message, channels per tenant (README, Security). */
  tenant?: string | TenantConfig
}

const KINDS: readonly MessageKind[] = ['event', 'command', 'query']

/** The `delivery` section; durations in ms. */
const DELIVERY: OptionSpecs = {
  maxAttempts: { type: 'integer' },
  initialDelayMs: { type: 'duration' },
  maxDelayMs: { type: 'duration' },
  maxInFlight: { type: 'integer' },
  queryTimeoutMs: { type: 'duration' },
  stopTimeoutMs: { type: 'duration' },
  maxDeliveries: { type: 'integer' },
}

const ROUTE: OptionSpecs = {
  match: { type: 'string' },
  kind: { type: 'string', oneOf: KINDS },
  transport: { type: 'string', required: true },
  channel: { type: 'string' },
}

/** The keys of a bus config; transports and routes are checked further below. */
const CONFIG: OptionSpecs = {
  service: { type: 'string', required: true, pattern: /^[A-Za-z0-9][A-Za-z0-9._-]*$/ },
  source: { type: 'string' },
  transports: { type: 'object', required: true },
  routes: { type: 'any' },
  defaultTransport: { type: 'string' },
  delivery: { type: 'object', options: DELIVERY },
  logger: { type: 'any' },
  instrumentation: { type: 'any' },
  encryption: { type: 'any' },
  tenant: { type: 'any' },
}

export function isTransport(value: unknown): value is Transport {
  return (
    isObject(value) &&
    typeof value.publish === 'function' &&
    typeof value.subscribe === 'function' &&
    typeof value.connect === 'function'
  )
}

/**
 * Checks a config's keys, types and cross-references, and returns it with values
 * given as environment text read as the types their keys expect. Throws a
 * ConfigError naming the first wrong key (and, for an unknown one, the nearest valid name).
 * A transport's own options are the adapter's to check (at createBus).
 */
export function validateConfig(config: unknown): BusConfig {
  if (!isObject(config)) throw new ConfigError('(root)', 'must be an object with service and transports')
  const checked = checkOptions(CONFIG, config, '')
  if (checked.logger !== undefined && !isLogger(checked.logger)) {
    throw new ConfigError('logger', 'must have debug, info, warn and error functions (e.g. consoleLogger())')
  }
  const instrumentation = checked.instrumentation
  if (
    instrumentation !== undefined &&
    !(
      isObject(instrumentation) &&
      ['send', 'process', 'query'].every((h) => typeof instrumentation[h] === 'function')
    )
  ) {
    throw new ConfigError('instrumentation', 'must have send, process and query hooks (e.g. openTelemetry())')
  }
  const transports = checked.transports as Record<string, unknown>
  if (Object.keys(transports).length === 0) {
    throw new ConfigError(
      'transports',
      'must name at least one transport, e.g. { "main": { "adapter": "memory" } }',
    )
  }
  for (const [name, spec] of Object.entries(transports)) {
    if (isTransport(spec)) continue
    if (!isObject(spec))
      throw new ConfigError(`transports.${name}`, 'must be an object with an "adapter" key')
    if (typeof spec.adapter !== 'string' || spec.adapter === '') {
      throw new ConfigError(
        `transports.${name}.adapter`,
        'is missing: name the adapter (memory, kafka, rabbitmq, aws, gcp)',
      )
    }
  }
  const names = Object.keys(transports)
  const known = (key: string, value: unknown) => {
    if (typeof value !== 'string' || !names.includes(value)) {
      const near = typeof value === 'string' ? nearest(value, names) : undefined
      throw new ConfigError(
        key,
        `names no transport: ${JSON.stringify(value)}; ${near ? `did you mean "${near}"? ` : ''}defined: ${names.join(', ')}`,
      )
    }
  }
  if (checked.defaultTransport !== undefined) known('defaultTransport', checked.defaultTransport)
  else if (names.length > 1) {
    throw new ConfigError(
      'defaultTransport',
      `is required with several transports; one of ${names.join(', ')}`,
    )
  }
  if (checked.routes !== undefined) {
    if (!Array.isArray(checked.routes)) throw new ConfigError('routes', 'must be a list of routes')
    checked.routes = checked.routes.map((route: unknown, i) => {
      const key = `routes[${i}]`
      if (!isObject(route)) throw new ConfigError(key, 'must be an object with a transport')
      const r = checkOptions(ROUTE, route, key)
      known(`${key}.transport`, r.transport)
      if (r.match === undefined && r.kind === undefined) {
        throw new ConfigError(key, 'needs a "match" pattern, a "kind", or both')
      }
      return r
    })
  }
  return checked as unknown as BusConfig
}

const isLogger = (v: unknown): boolean =>
  isObject(v) && ['debug', 'info', 'warn', 'error'].every((level) => typeof v[level] === 'function')

/** Reads a JSON config file; a missing or malformed file fails naming the file and the problem. */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new ConfigError('file', `cannot read ${path}: ${errorMessage(error)}`, { cause: error })
  }
  try {
    const parsed: unknown = JSON.parse(text)
    if (!isObject(parsed)) throw new Error('the top level is not an object')
    return parsed
  } catch (error) {
    throw new ConfigError('file', `${path} is not valid JSON: ${errorMessage(error)}`, { cause: error })
  }
}

const camel = (s: string) => s.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())

/** The key of `node` an environment segment names: an existing one, whatever its case, or `fallback`. */
function keyFor(node: Record<string, unknown>, segment: string, fallback: string): string {
  const lower = segment.toLowerCase()
  return (
    Object.keys(node).find((k) => k.toLowerCase() === lower || k.toLowerCase() === fallback.toLowerCase()) ??
    fallback
  )
}

/**
 * The environment-variable form of a config. Each `OMNIBUS_<PATH>` variable sets
 * one key; path segments are separated by `__` and turned into camelCase
 * (`OMNIBUS_DEFAULT_TRANSPORT` → `defaultTransport`,
 * `OMNIBUS_TRANSPORTS__EVENTS__ADAPTER` → `transports.events.adapter`), except
 * transport names, which are only lower-cased (`MY_BUS` → `my_bus`, or the name
 * the file already uses, whatever its case). Values stay text here; createBus
 * reads each as the type its key expects (a string key keeps `007`; a number
 * key reads `5`; a list key reads JSON or a comma-separated list).
 * `OMNIBUS_CONFIG` names a JSON file (or holds inline JSON) that the other variables override.
 */
export function configFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Record<string, unknown> | undefined {
  let config: Record<string, unknown> | undefined
  const fileOrJson = env.OMNIBUS_CONFIG
  if (fileOrJson) {
    if (fileOrJson.trimStart().startsWith('{')) {
      try {
        config = JSON.parse(fileOrJson) as Record<string, unknown>
      } catch (error) {
        throw new ConfigError('OMNIBUS_CONFIG', `is not valid JSON: ${errorMessage(error)}`, { cause: error })
      }
    } else config = readConfigFile(fileOrJson)
  }
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith('OMNIBUS_') || name === 'OMNIBUS_CONFIG' || raw === undefined) continue
    const segments = name.slice('OMNIBUS_'.length).split('__')
    const top = camel(segments[0]!)
    if (!(top in CONFIG)) continue
    config ??= {}
    let node = config
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i]!
      const key =
        i === 0
          ? top
          : keyFor(node, segment, top === 'transports' && i === 1 ? segment.toLowerCase() : camel(segment))
      if (i === segments.length - 1) {
        // Core's own keys are read now (configs get spread and copied); a transport's
        // options wait, marked, for the adapter's declared types at createBus.
        const spec = i === 0 ? CONFIG[key] : top === 'delivery' && i === 1 ? DELIVERY[key] : undefined
        node[key] = spec ? fromText(spec, raw, i === 0 ? key : `${top}.${key}`) : raw
        if (!spec && !(top === 'transports' && i === 2 && key === 'adapter')) markText(node, key)
      } else {
        if (!isObject(node[key])) node[key] = {}
        node = node[key] as Record<string, unknown>
      }
    }
  }
  return config
}

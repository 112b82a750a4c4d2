import { readFileSync } from 'node:fs'
import type { MessageKind } from '../envelope/envelope.js'
import { ConfigError, errorMessage } from '../errors.js'
import type { Logger } from '../logger.js'
import type { Route } from '../routing/router.js'
import type { Transport } from '../transport/transport.js'

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
  /** Where Omnibus logs. Default: nowhere. */
  logger?: Logger
}

const KINDS: readonly MessageKind[] = ['event', 'command', 'query']
const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v)

export function isTransport(value: unknown): value is Transport {
  return (
    isObject(value) &&
    typeof value.publish === 'function' &&
    typeof value.subscribe === 'function' &&
    typeof value.connect === 'function'
  )
}

function positiveInt(key: string, value: unknown): void {
  if (value === undefined) return
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ConfigError(key, `must be a whole number of 1 or more, got ${JSON.stringify(value)}`)
  }
}

/** Checks a config's shape and cross-references; throws ConfigError naming the first wrong key. */
export function validateConfig(config: unknown): asserts config is BusConfig {
  if (!isObject(config)) throw new ConfigError('(root)', 'must be an object with service and transports')
  if (typeof config.service !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(config.service)) {
    throw new ConfigError(
      'service',
      `must name the service (letters, digits, . _ -), got ${JSON.stringify(config.service)}`,
    )
  }
  if (config.source !== undefined && (typeof config.source !== 'string' || config.source === '')) {
    throw new ConfigError('source', 'must be a non-empty string (a URI reference)')
  }
  if (!isObject(config.transports) || Object.keys(config.transports).length === 0) {
    throw new ConfigError(
      'transports',
      'must name at least one transport, e.g. { "main": { "adapter": "memory" } }',
    )
  }
  for (const [name, spec] of Object.entries(config.transports)) {
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
  const names = Object.keys(config.transports)
  const known = (key: string, value: unknown) => {
    if (typeof value !== 'string' || !names.includes(value)) {
      throw new ConfigError(key, `names no transport: ${JSON.stringify(value)}; defined: ${names.join(', ')}`)
    }
  }
  if (config.defaultTransport !== undefined) known('defaultTransport', config.defaultTransport)
  else if (names.length > 1) {
    throw new ConfigError(
      'defaultTransport',
      `is required with several transports; one of ${names.join(', ')}`,
    )
  }
  if (config.routes !== undefined) {
    if (!Array.isArray(config.routes)) throw new ConfigError('routes', 'must be a list of routes')
    config.routes.forEach((route: unknown, i) => {
      const key = `routes[${i}]`
      if (!isObject(route)) throw new ConfigError(key, 'must be an object with a transport')
      known(`${key}.transport`, route.transport)
      if (route.match === undefined && route.kind === undefined) {
        throw new ConfigError(key, 'needs a "match" pattern, a "kind", or both')
      }
      if (route.match !== undefined && (typeof route.match !== 'string' || route.match === '')) {
        throw new ConfigError(`${key}.match`, 'must be a message type or a pattern like com.acme.order.*')
      }
      if (route.kind !== undefined && !KINDS.includes(route.kind as MessageKind)) {
        throw new ConfigError(
          `${key}.kind`,
          `must be one of ${KINDS.join(', ')}, got ${JSON.stringify(route.kind)}`,
        )
      }
      if (route.channel !== undefined && (typeof route.channel !== 'string' || route.channel === '')) {
        throw new ConfigError(`${key}.channel`, 'must be a non-empty channel name')
      }
    })
  }
  if (config.delivery !== undefined) {
    if (!isObject(config.delivery)) throw new ConfigError('delivery', 'must be an object')
    for (const [k, v] of Object.entries(config.delivery)) positiveInt(`delivery.${k}`, v)
  }
}

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

function parseValue(raw: string): unknown {
  try {
    return JSON.parse(raw)
  } catch {
    return raw
  }
}

/**
 * The environment-variable form of a config. Each `OMNIBUS_<PATH>` variable sets
 * one key; path segments are separated by `__` and turned into camelCase
 * (`OMNIBUS_DEFAULT_TRANSPORT` → `defaultTransport`,
 * `OMNIBUS_TRANSPORTS__EVENTS__ADAPTER` → `transports.events.adapter`). Values
 * are read as JSON when they parse (`["localhost:9092"]`, `3`, `true`), as text otherwise.
 * `OMNIBUS_CONFIG` names a JSON file (or holds inline JSON) that the other variables override.
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): Record<string, unknown> | undefined {
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
    const path = name.slice('OMNIBUS_'.length).split('__').map(camel)
    if (!['service', 'source', 'transports', 'routes', 'defaultTransport', 'delivery'].includes(path[0]!))
      continue
    config ??= {}
    let node = config
    for (const segment of path.slice(0, -1)) {
      if (!isObject(node[segment])) node[segment] = {}
      node = node[segment] as Record<string, unknown>
    }
    const leaf = path[path.length - 1]!
    node[leaf] = path[0] === 'transports' && path.length === 3 && leaf === 'adapter' ? raw : parseValue(raw)
  }
  return config
}

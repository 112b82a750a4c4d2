import { ConfigError, type Logger } from '@omnibus/core'

/** Options of the RabbitMQ transport (config `transports.<key>` with `"adapter": "rabbitmq"`). */
export interface RabbitMQTransportOptions {
  /** Broker URL, `amqp://user:pass@host:5672/vhost` or `amqps://…` for TLS. Wins over host/port/vhost/username/password. */
  url?: string
  /** Broker host when no `url` is given. Default `127.0.0.1`. */
  host?: string
  /** Broker port when no `url` is given. Default 5672, or 5671 with `tls`. */
  port?: number
  /** Virtual host when no `url` is given. Default `/`. */
  vhost?: string
  /** User name when no `url` is given. Default `guest`. */
  username?: string
  /** Password when no `url` is given. Default `guest`. */
  password?: string
  /** Use TLS (`amqps`) when no `url` is given. Default false. */
  tls?: boolean
  /** Passed to the socket as is (TLS `ca`, `cert`, `key`, `servername`, `timeout`, …). */
  socketOptions?: Record<string, unknown>
  /** Heartbeat interval in seconds; a dead connection is noticed after about twice this. Default 10. */
  heartbeat?: number
  /** Upper bound of unacknowledged deliveries per consumer; the effective prefetch is min(prefetch, maxInFlight). */
  prefetch?: number
  /** Declare group and command queues as quorum queues (replicated; `x-delivery-count` known). Default false. */
  quorum?: boolean
  /**
   * One active consumer per queue (`x-single-active-consumer`): per-key order holds, but only one member of a
   * group works at a time (the others are hot standbys). Turns `capabilities.ordering` on. Default false.
   */
  singleActiveConsumer?: boolean
  /** CloudEvents content mode on the wire. Default `binary`. */
  mode?: 'binary' | 'structured'
  /** Create exchanges, queues and bindings on demand. false: they must exist (CHANNEL_NOT_FOUND otherwise). Default true. */
  declare?: boolean
  /** Alias of `declare`, the name the other adapters use. */
  provision?: boolean
  /** Largest message in bytes (structured JSON size); checked before sending. Default 16 MiB. */
  maxMessageBytes?: number
  /** How long a publish waits for the connection to come back before it rejects, in ms. Default 30000. */
  publishTimeoutMs?: number
  /** How long the first connection attempt may take, in ms. Default 10000. */
  connectTimeoutMs?: number
  /** First reconnect delay in ms, doubled per failed attempt up to `reconnectMaxDelayMs`. Default 200. */
  reconnectDelayMs?: number
  /** Longest reconnect delay in ms. Default 5000. */
  reconnectMaxDelayMs?: number
  /** Where the adapter logs; default: the bus's logger. */
  logger?: Logger
}

/** The options after validation, with defaults filled in. */
export interface RabbitMQSettings {
  readonly url: string
  readonly socketOptions: Record<string, unknown>
  readonly heartbeat: number
  readonly prefetch: number
  readonly quorum: boolean
  readonly singleActiveConsumer: boolean
  readonly mode: 'binary' | 'structured'
  readonly declare: boolean
  readonly maxMessageBytes: number
  readonly publishTimeoutMs: number
  readonly connectTimeoutMs: number
  readonly reconnectDelayMs: number
  readonly reconnectMaxDelayMs: number
}

export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024

function positive(key: string, name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ConfigError(`${key}.${name}`, `must be a positive number, got ${JSON.stringify(value)}`)
  }
  return value
}

function bool(key: string, name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean')
    throw new ConfigError(`${key}.${name}`, `must be true or false, got ${JSON.stringify(value)}`)
  return value
}

function text(key: string, name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.length === 0) {
    throw new ConfigError(`${key}.${name}`, `must be a non-empty string, got ${JSON.stringify(value)}`)
  }
  return value
}

function urlOf(key: string, options: RabbitMQTransportOptions): string {
  const url = text(key, 'url', options.url)
  if (url !== undefined) {
    if (!/^amqps?:\/\//i.test(url))
      throw new ConfigError(`${key}.url`, `must start with amqp:// or amqps://, got "${url}"`)
    return url
  }
  const tls = bool(key, 'tls', options.tls, false)
  const host = text(key, 'host', options.host) ?? '127.0.0.1'
  const port = positive(key, 'port', options.port, tls ? 5671 : 5672)
  const user = encodeURIComponent(text(key, 'username', options.username) ?? 'guest')
  const pass = encodeURIComponent(text(key, 'password', options.password) ?? 'guest')
  const vhost = encodeURIComponent(text(key, 'vhost', options.vhost) ?? '/')
  return `${tls ? 'amqps' : 'amqp'}://${user}:${pass}@${host}:${port}/${vhost}`
}

/** Validates options and fills in defaults; `key` is the config key, for errors. */
export function resolveSettings(options: RabbitMQTransportOptions, key: string): RabbitMQSettings {
  if (options === null || typeof options !== 'object') throw new ConfigError(key, 'options must be an object')
  const mode = options.mode ?? 'binary'
  if (mode !== 'binary' && mode !== 'structured') {
    throw new ConfigError(`${key}.mode`, `must be "binary" or "structured", got ${JSON.stringify(mode)}`)
  }
  const declare = bool(key, 'declare', options.declare, true)
  const provision = bool(key, 'provision', options.provision, declare)
  if (options.declare !== undefined && options.provision !== undefined && declare !== provision) {
    throw new ConfigError(`${key}.provision`, 'contradicts `declare`; set only one of them')
  }
  if (
    options.socketOptions !== undefined &&
    (options.socketOptions === null || typeof options.socketOptions !== 'object')
  ) {
    throw new ConfigError(`${key}.socketOptions`, 'must be an object (passed to the socket as is)')
  }
  const heartbeat = options.heartbeat === 0 ? 0 : positive(key, 'heartbeat', options.heartbeat, 10)
  const reconnectDelayMs = positive(key, 'reconnectDelayMs', options.reconnectDelayMs, 200)
  return {
    url: urlOf(key, options),
    socketOptions: options.socketOptions ?? {},
    heartbeat,
    prefetch: Math.floor(positive(key, 'prefetch', options.prefetch, 65535)),
    quorum: bool(key, 'quorum', options.quorum, false),
    singleActiveConsumer: bool(key, 'singleActiveConsumer', options.singleActiveConsumer, false),
    mode,
    declare: provision,
    maxMessageBytes: Math.floor(
      positive(key, 'maxMessageBytes', options.maxMessageBytes, DEFAULT_MAX_MESSAGE_BYTES),
    ),
    publishTimeoutMs: positive(key, 'publishTimeoutMs', options.publishTimeoutMs, 30_000),
    connectTimeoutMs: positive(key, 'connectTimeoutMs', options.connectTimeoutMs, 10_000),
    reconnectDelayMs,
    reconnectMaxDelayMs: Math.max(
      reconnectDelayMs,
      positive(key, 'reconnectMaxDelayMs', options.reconnectMaxDelayMs, 5000),
    ),
  }
}

/** The URL with the heartbeat set, and the socket options, as amqplib's connect takes them. */
export function connectArguments(settings: RabbitMQSettings): {
  url: string
  socketOptions: Record<string, unknown>
} {
  const url = new URL(settings.url)
  url.searchParams.set('heartbeat', String(settings.heartbeat))
  return {
    url: url.toString(),
    // noDelay: without it Nagle's algorithm holds small frames until the broker's delayed ACK (about
    // 40 ms), so a lone publish or ack waits that long. Overridable through `socketOptions`.
    socketOptions: { timeout: settings.connectTimeoutMs, noDelay: true, ...settings.socketOptions },
  }
}

/** The URL without its password, for logs and error messages. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return 'amqp://(unparsable url)'
  }
}

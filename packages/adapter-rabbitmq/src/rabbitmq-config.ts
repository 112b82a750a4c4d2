import { ConfigError, type Logger, silentLogger } from '@omnibus/core'
import { redactUrl, secretOption, type TlsOptions, tlsOptions, withSafeView } from '@omnibus/core/adapter'

/** Options of the RabbitMQ transport (config `transports.<key>` with `"adapter": "rabbitmq"`). */
export interface RabbitMQTransportOptions {
  /**
   * Broker URL, `amqp://host:5672/vhost` or `amqps://…` for TLS. Wins over host/port/vhost/tls; user
   * and password in it still work, but `username` with `passwordFile` keeps the secret out of config.
   */
  url?: string
  /** Broker host when no `url` is given. Default `127.0.0.1`. */
  host?: string
  /** Broker port when no `url` is given. Default 5672, or 5671 with `tls`. */
  port?: number
  /** Virtual host when no `url` is given. Default `/`. */
  vhost?: string
  /** User name when no `url` is given. Default `guest`. */
  username?: string
  /** Password when the `url` has none. Default `guest`. */
  password?: string
  /** A file holding the password (one trailing newline dropped), instead of `password`. */
  passwordFile?: string
  /**
   * TLS (`amqps`): `true`, or Node TLS options with `caFile`, `certFile`, `keyFile`,
   * `passphraseFile` read from files (a client certificate for mutual TLS and `auth: 'external'`).
   * `rejectUnauthorized: false` logs a warning. Default false, or what the url's scheme says.
   */
  tls?: boolean | TlsOptions
  /** `plain` (user name and password; default) or `external` (SASL EXTERNAL: the broker takes the client certificate's identity; needs a certificate in `tls`). */
  auth?: 'plain' | 'external'
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
  /** The broker URL without user or password (safe to log). */
  readonly url: string
  /** The SASL mechanism and identity; the password stays in a closure, out of logs and inspect. */
  readonly auth: { readonly mechanism: 'PLAIN' | 'EXTERNAL'; readonly username: string | undefined }
  readonly credentials: () => { mechanism: string; response: () => Buffer }
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

/** The URL without credentials, and the user and password it carried. */
function urlOf(key: string, options: RabbitMQTransportOptions): { url: URL; user?: string; pass?: string } {
  const given = text(key, 'url', options.url)
  if (given !== undefined) {
    let url: URL
    try {
      url = new URL(given)
    } catch {
      throw new ConfigError(`${key}.url`, `is not a URL: "${redactUrl(given)}"`)
    }
    if (url.protocol !== 'amqp:' && url.protocol !== 'amqps:')
      throw new ConfigError(`${key}.url`, `must start with amqp:// or amqps://, got "${redactUrl(given)}"`)
    const user = url.username ? decodeURIComponent(url.username) : undefined
    const pass = url.password ? decodeURIComponent(url.password) : undefined
    url.username = ''
    url.password = ''
    return { url, ...(user !== undefined ? { user } : {}), ...(pass !== undefined ? { pass } : {}) }
  }
  const tls = options.tls !== undefined && options.tls !== false
  const host = text(key, 'host', options.host) ?? '127.0.0.1'
  const port = positive(key, 'port', options.port, tls ? 5671 : 5672)
  const vhost = encodeURIComponent(text(key, 'vhost', options.vhost) ?? '/')
  return { url: new URL(`${tls ? 'amqps' : 'amqp'}://${host}:${port}/${vhost}`) }
}

/** Who connects: SASL PLAIN with user and password, or EXTERNAL (the client certificate). */
function authOf(
  key: string,
  options: RabbitMQTransportOptions,
  from: { user?: string; pass?: string },
): Pick<RabbitMQSettings, 'auth' | 'credentials'> {
  const auth = options.auth ?? 'plain'
  if (auth === 'external') {
    const tls = options.tls
    if (
      typeof tls !== 'object' ||
      (tls.cert === undefined && tls.certFile === undefined && tls.pfx === undefined)
    ) {
      throw new ConfigError(
        `${key}.auth`,
        '"external" needs a client certificate: tls.certFile and tls.keyFile',
      )
    }
    const response = () => Buffer.from('')
    return {
      auth: { mechanism: 'EXTERNAL', username: undefined },
      credentials: () => ({ mechanism: 'EXTERNAL', response }),
    }
  }
  if (auth !== 'plain')
    throw new ConfigError(`${key}.auth`, `must be "plain" or "external", got ${JSON.stringify(auth)}`)
  const username = from.user ?? text(key, 'username', options.username) ?? 'guest'
  const password = from.pass ?? secretOption(key, options as Record<string, unknown>, 'password') ?? 'guest'
  // amqplib's own plain credentials keep the password as a property; this keeps it in the closure.
  const response = () => Buffer.from(['', username, password].join(String.fromCharCode(0)))
  return { auth: { mechanism: 'PLAIN', username }, credentials: () => ({ mechanism: 'PLAIN', response }) }
}

/** Validates options and fills in defaults; `key` is the config key, for errors. */
export function resolveSettings(
  options: RabbitMQTransportOptions,
  key: string,
  logger?: Logger,
): RabbitMQSettings {
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
  const { url, ...from } = urlOf(key, options)
  const tls =
    typeof options.tls === 'object'
      ? tlsOptions(`${key}.tls`, options.tls, logger ?? options.logger ?? silentLogger, 'rabbitmq')
      : {}
  if (options.tls !== undefined && typeof options.tls !== 'boolean' && typeof options.tls !== 'object') {
    throw new ConfigError(`${key}.tls`, 'must be true/false or an object of TLS options')
  }
  return withSafeView({
    url: url.toString(),
    ...authOf(key, options, from),
    socketOptions: { ...tls, ...options.socketOptions },
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
  })
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
    socketOptions: {
      timeout: settings.connectTimeoutMs,
      noDelay: true,
      ...settings.socketOptions,
      credentials: settings.credentials(),
    },
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

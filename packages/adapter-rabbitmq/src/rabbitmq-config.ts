import { ConfigError, type Logger, silentLogger } from '@omnibus/core'
import {
  checkOptions,
  DEFAULT_PUBLISH_TIMEOUT_MS,
  redactUrl,
  secretOption,
  type TlsOptions,
  tlsOptions,
  withSafeView,
} from '@omnibus/core/adapter'
import { rabbitmqOptions } from './rabbitmq-options.js'

/** Options of the RabbitMQ transport (config `transports.<key>` with `"adapter": "rabbitmq"`); see the README. */
export interface RabbitMQTransportOptions {
  /** `amqp://host:5672/vhost` or `amqps://…`; wins over host/port/vhost/tls. */
  url?: string
  /** Without `url`: default `127.0.0.1`, port 5672 (5671 with `tls`), vhost `/`. */
  host?: string
  port?: number
  vhost?: string
  /** SASL PLAIN credentials when the `url` has none; default `guest`/`guest`. */
  username?: string
  password?: string
  /** A file holding the password (one trailing newline dropped), instead of `password`. */
  passwordFile?: string
  /** `true`, or Node TLS options with `caFile`, `certFile`, `keyFile`, `passphraseFile` read from files. */
  tls?: boolean | TlsOptions
  /** `plain` (default) or `external` (SASL EXTERNAL: the identity of the client certificate in `tls`). */
  auth?: 'plain' | 'external'
  /** Passed to the socket as is (TLS `ca`, `servername`, `clientProperties`, …). */
  socketOptions?: Record<string, unknown>
  /** Heartbeat in seconds (0: off); a dead connection is noticed after about twice this. Default 10. */
  heartbeat?: number
  /** Upper bound of unacknowledged deliveries per consumer (the prefetch is min(prefetch, maxInFlight)). */
  prefetch?: number
  /**
   * Quorum queues (replicated): `true` for every durable queue, or the channels (all their groups, or the
   * queue of a queue channel) and `<channel>::<group>` queues that get one. Default false: classic queues.
   */
  quorum?: boolean | readonly string[]
  /** A quorum queue's `x-delivery-limit`: the bus's `delivery.maxDeliveries` (default 13); see the README. */
  deliveryLimit?: number
  /** `x-single-active-consumer` on every durable queue: per-key order, one active member per group. */
  singleActiveConsumer?: boolean
  /** CloudEvents content mode on the wire. Default `binary`. */
  mode?: 'binary' | 'structured'
  /** Declare exchanges, queues and bindings on demand (default true); false: they must exist. */
  declare?: boolean
  /** Alias of `declare`, the name the other adapters use. */
  provision?: boolean
  /** Largest message in bytes (structured JSON size); checked before sending. Default 16 MiB. */
  maxMessageBytes?: number
  /** A publish not confirmed within this many ms rejects (PUBLISH_FAILED); also bounds provision/subscribe waits. */
  publishTimeoutMs?: number
  /** Socket timeout of a connection attempt, in ms. Default 10000. */
  connectTimeoutMs?: number
  /** Reconnect backoff: first delay (default 200 ms), doubled per failed attempt up to the max (5000). */
  reconnectDelayMs?: number
  reconnectMaxDelayMs?: number
  /** Where the adapter logs; default: the bus's logger. */
  logger?: Logger
}

/** The options after validation, with defaults filled in; `url` has no user or password (safe to log). */
export type RabbitMQSettings = ReturnType<typeof parseRabbitMQConfig>

export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024
/** Core's default `delivery.maxDeliveries` (maxAttempts 3 + 10), so that core dead-letters before the broker. */
export const DEFAULT_DELIVERY_LIMIT = 13

/** The URL without credentials, and the user and password it carried. */
function urlOf(key: string, options: RabbitMQTransportOptions): { url: URL; user?: string; pass?: string } {
  if (options.url === undefined) {
    const tls = options.tls !== undefined && options.tls !== false
    const vhost = encodeURIComponent(options.vhost ?? '/')
    const port = options.port ?? (tls ? 5671 : 5672)
    return { url: new URL(`${tls ? 'amqps' : 'amqp'}://${options.host ?? '127.0.0.1'}:${port}/${vhost}`) }
  }
  let url: URL
  try {
    url = new URL(options.url)
  } catch {
    throw new ConfigError(`${key}.url`, `is not a URL: "${redactUrl(options.url)}"`)
  }
  if (url.protocol !== 'amqp:' && url.protocol !== 'amqps:')
    throw new ConfigError(
      `${key}.url`,
      `must start with amqp:// or amqps://, got "${redactUrl(options.url)}"`,
    )
  const user = url.username ? decodeURIComponent(url.username) : undefined
  const pass = url.password ? decodeURIComponent(url.password) : undefined
  url.username = ''
  url.password = ''
  return { url, ...(user !== undefined ? { user } : {}), ...(pass !== undefined ? { pass } : {}) }
}

/** Who connects: SASL PLAIN with user and password, or EXTERNAL (the client certificate). */
function authOf(key: string, options: RabbitMQTransportOptions, from: { user?: string; pass?: string }) {
  if (options.auth === 'external') {
    const tls = options.tls
    if (typeof tls !== 'object' || (tls.cert ?? tls.certFile ?? tls.pfx) === undefined)
      throw new ConfigError(
        `${key}.auth`,
        '"external" needs a client certificate: tls.certFile and tls.keyFile',
      )
    const response = () => Buffer.from('')
    return {
      auth: { mechanism: 'EXTERNAL', username: undefined },
      credentials: () => ({ mechanism: 'EXTERNAL', response }),
    } as const
  }
  const username = from.user ?? options.username ?? 'guest'
  const password = from.pass ?? secretOption(key, options as Record<string, unknown>, 'password') ?? 'guest'
  // amqplib's own plain credentials keep the password as a property; this keeps it in the closure.
  const response = () => Buffer.from(['', username, password].join(String.fromCharCode(0)))
  return {
    auth: { mechanism: 'PLAIN', username },
    credentials: () => ({ mechanism: 'PLAIN', response }),
  } as const
}

/** Validates options (ConfigError naming `key.<option>`) and fills in defaults. */
export function parseRabbitMQConfig(input: RabbitMQTransportOptions, key: string, logger = silentLogger) {
  const options = checkOptions(rabbitmqOptions, input, key) as RabbitMQTransportOptions
  const { declare, provision } = options
  if (declare !== undefined && provision !== undefined && declare !== provision)
    throw new ConfigError(`${key}.provision`, 'contradicts `declare`; set only one of them')
  if (options.tls !== undefined && typeof options.tls !== 'boolean' && typeof options.tls !== 'object')
    throw new ConfigError(`${key}.tls`, 'must be true/false or an object of TLS options')
  const tls = typeof options.tls === 'object' ? tlsOptions(`${key}.tls`, options.tls, logger, 'rabbitmq') : {}
  const { url, ...from } = urlOf(key, options)
  const reconnectDelayMs = options.reconnectDelayMs ?? 200
  const { quorum = false } = options
  if (
    typeof quorum !== 'boolean' &&
    !(Array.isArray(quorum) && quorum.every((n) => typeof n === 'string' && n))
  )
    throw new ConfigError(
      `${key}.quorum`,
      'must be true/false or a list of channel and "<channel>::<group>" names',
    )
  return withSafeView({
    url: url.toString(),
    ...authOf(key, options, from),
    socketOptions: { ...tls, ...options.socketOptions },
    heartbeat: options.heartbeat ?? 10,
    prefetch: options.prefetch ?? 65535,
    /** Whether the durable queue `queue` of `channel` is a quorum queue. */
    isQuorum: (channel: string, queue: string) =>
      quorum === true || (quorum !== false && (quorum.includes(channel) || quorum.includes(queue))),
    deliveryLimit: options.deliveryLimit ?? DEFAULT_DELIVERY_LIMIT,
    singleActiveConsumer: options.singleActiveConsumer ?? false,
    mode: options.mode ?? ('binary' as const),
    declare: declare ?? provision ?? true,
    maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    publishTimeoutMs: options.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS,
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    reconnectDelayMs,
    reconnectMaxDelayMs: Math.max(reconnectDelayMs, options.reconnectMaxDelayMs ?? 5000),
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

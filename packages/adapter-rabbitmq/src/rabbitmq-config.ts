import { ConfigError, silentLogger } from '@omnibus/core'
import {
  channelSwitch,
  checkOptions,
  DEFAULT_PUBLISH_TIMEOUT_MS,
  type OptionValues,
  redactUrl,
  secretOption,
  tlsOptions,
  withSafeView,
} from '@omnibus/core/adapter'
import { rabbitmqOptions } from './rabbitmq-options.js'

/** Options of the RabbitMQ transport: see `rabbitmqOptions` and the README. */
export type RabbitMQTransportOptions = OptionValues<typeof rabbitmqOptions>

/** The options after validation, with defaults filled in; `url` has no user or password (safe to log). */
export type RabbitMQSettings = ReturnType<typeof parseRabbitMQConfig>

export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024
/** Core's default `delivery.maxDeliveries` (maxAttempts 3 + 10), so that core dead-letters before the broker. */
export const DEFAULT_DELIVERY_LIMIT = 13

/** The URL without credentials, and the user and password it carried. */
function urlOf(key: string, options: RabbitMQTransportOptions) {
  if (options.url === undefined) {
    const tls = options.tls !== undefined && options.tls !== false
    const vhost = encodeURIComponent(options.vhost ?? '/')
    const port = options.port ?? (tls ? 5671 : 5672)
    return { url: new URL(`${tls ? 'amqps' : 'amqp'}://${options.host ?? '127.0.0.1'}:${port}/${vhost}`) }
  }
  // Not URL.parse: it needs Node 22.1, and the engines field lets 22.0 in.
  if (!URL.canParse(options.url))
    throw new ConfigError(`${key}.url`, `is not a URL: "${redactUrl(options.url)}"`)
  const url = new URL(options.url)
  const scheme = `must start with amqp:// or amqps://, got "${redactUrl(options.url)}"`
  if (url.protocol !== 'amqp:' && url.protocol !== 'amqps:') throw new ConfigError(`${key}.url`, scheme)
  const user = url.username ? decodeURIComponent(url.username) : undefined
  const pass = url.password ? decodeURIComponent(url.password) : undefined
  url.username = ''
  url.password = ''
  return { url, user, pass }
}

/** Who connects: SASL PLAIN with user and password, or EXTERNAL (the client certificate). */
function authOf(key: string, options: RabbitMQTransportOptions, from: { user?: string; pass?: string }) {
  if (options.auth === 'external') {
    const tls = options.tls
    const why = '"external" needs a client certificate: tls.certFile and tls.keyFile'
    if (typeof tls !== 'object' || (tls.cert ?? tls.certFile ?? tls.pfx) === undefined)
      throw new ConfigError(`${key}.auth`, why)
    return { auth: { mechanism: 'EXTERNAL', username: undefined }, response: () => Buffer.alloc(0) } as const
  }
  const username = from.user ?? options.username ?? 'guest'
  const password = from.pass ?? secretOption(key, options as Record<string, unknown>, 'password') ?? 'guest'
  // amqplib's own plain credentials keep the password as a property; this keeps it in the closure.
  const response = () => Buffer.from(`\0${username}\0${password}`)
  // The same user for the management API (backlog), its password kept in this closure too.
  const basic = () => `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`
  return { auth: { mechanism: 'PLAIN', username, basic }, response } as const
}

/** Validates options (ConfigError naming `key.<option>`) and fills in defaults. */
export function parseRabbitMQConfig(input: RabbitMQTransportOptions, key: string, logger = silentLogger) {
  const options = checkOptions(rabbitmqOptions, input, key) as RabbitMQTransportOptions
  const { declare, provision } = options
  if (declare !== undefined && provision !== undefined && declare !== provision)
    throw new ConfigError(`${key}.provision`, 'contradicts `declare`; set only one of them')
  const tls = typeof options.tls === 'object' ? tlsOptions(`${key}.tls`, options.tls, logger, 'rabbitmq') : {}
  const { url, ...from } = urlOf(key, options)
  const reconnectDelayMs = options.reconnectDelayMs ?? 200
  const quorum = channelSwitch(options.quorum)
  const { auth, response } = authOf(key, options, from)
  return withSafeView({
    url: url.toString(),
    vhost: decodeURIComponent(url.pathname.slice(1)) || '/',
    urls: [url.host, ...(options.nodes ?? [])].map((node, i) => {
      const other = Object.assign(new URL(url), { host: node })
      if (other.host.toLowerCase() === node.toLowerCase()) return other.toString()
      throw new ConfigError(`${key}.nodes[${i - 1}]`, `must be "host:port" of another node, got "${node}"`)
    }),
    auth,
    /** As amqplib's connect takes them, with the credentials. */
    socketOptions: {
      // noDelay: without it Nagle's algorithm holds small frames until the broker's delayed ACK (about
      // 40 ms), so a lone publish or ack waits that long. Overridable through `socketOptions`.
      timeout: options.connectTimeoutMs ?? 10_000,
      noDelay: true,
      ...tls,
      ...options.socketOptions,
      credentials: { mechanism: auth.mechanism, response },
    },
    heartbeat: options.heartbeat ?? 10,
    prefetch: options.prefetch ?? 65535,
    /** Whether the durable queue `queue` of `channel` is a quorum queue. */
    isQuorum: (channel: string, queue: string) => quorum(channel) || quorum(queue),
    deliveryLimit: options.deliveryLimit ?? DEFAULT_DELIVERY_LIMIT,
    singleActiveConsumer: options.singleActiveConsumer ?? false,
    mode: options.mode ?? ('binary' as const),
    declare: declare ?? provision ?? true,
    maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    publishTimeoutMs: options.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS,
    reconnectDelayMs,
    reconnectMaxDelayMs: Math.max(reconnectDelayMs, options.reconnectMaxDelayMs ?? 5000),
  })
}

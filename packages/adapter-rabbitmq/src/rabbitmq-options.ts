import type { Logger } from '@omnibus/core'
import {
  anyOption,
  channelSwitchOption,
  type OptionSpecs,
  publishTimeoutOption,
  tlsOption,
} from '@omnibus/core/adapter'

/**
 * Every option of the rabbitmq adapter (config `transports.<key>` with `"adapter": "rabbitmq"`; the
 * README has the table), checked by createBus and again by parseRabbitMQConfig (for a transport
 * built in code): a typo (`prefetc`) fails naming the nearest valid key, environment text takes the
 * key's type (a `password` of `123456` stays text), numbers are checked for range.
 * RabbitMQTransportOptions is read off it.
 */
export const rabbitmqOptions = {
  /** `amqp://host:5672/vhost` or `amqps://…`; wins over host/port/vhost/tls. */
  url: { type: 'string' },
  /** The cluster's other nodes, `host:port` each (scheme, vhost, credentials as `url`): reconnects go round them. */
  nodes: { type: 'strings' },
  /** Without `url`: default `127.0.0.1`, port 5672 (5671 with `tls`), vhost `/`. */
  host: { type: 'string' },
  port: { type: 'integer', max: 65535 },
  vhost: { type: 'string' },
  /** SASL PLAIN credentials when the `url` has none; default `guest`/`guest`. */
  username: { type: 'string' },
  password: { type: 'string' },
  /** A file holding the password (one trailing newline dropped), instead of `password`. */
  passwordFile: { type: 'string' },
  /** `true`, or Node TLS options with `caFile`, `certFile`, `keyFile`, `passphraseFile` read from files. */
  tls: tlsOption,
  /** `plain` (default) or `external` (SASL EXTERNAL: the identity of the client certificate in `tls`). */
  auth: { type: 'string', oneOf: ['plain', 'external'] },
  /** Passed to the socket as is (TLS `ca`, `servername`, `clientProperties`, …). */
  socketOptions: { type: 'object' },
  /** Heartbeat in seconds (0: off); a dead connection is noticed after about twice this. Default 10. */
  heartbeat: { type: 'integer', min: 0, max: 65535 },
  /** Upper bound of unacknowledged deliveries per consumer (the prefetch is min(prefetch, maxInFlight)). */
  prefetch: { type: 'integer', max: 65535 },
  /**
   * Quorum queues (replicated): `true` for every durable queue, or the channels (all their groups, or the
   * queue of a queue channel) and `<channel>::<group>` queues that get one (in code also a function of
   * the name). Default false: classic queues.
   */
  quorum: channelSwitchOption,
  /** A quorum queue's `x-delivery-limit`: the bus's `delivery.maxDeliveries` (default 13); see the README. */
  deliveryLimit: { type: 'integer' },
  /** `x-single-active-consumer` on every durable queue: per-key order, one active member per group. */
  singleActiveConsumer: { type: 'boolean' },
  /** CloudEvents content mode on the wire. Default `binary`. */
  mode: { type: 'string', oneOf: ['binary', 'structured'] },
  /** Declare exchanges, queues and bindings on demand (default true); false: they must exist. */
  declare: { type: 'boolean' },
  /** Alias of `declare`, the name the other adapters use. */
  provision: { type: 'boolean' },
  /** Largest message in bytes (structured JSON size); checked before sending. Default 16 MiB. */
  maxMessageBytes: { type: 'integer' },
  /** A publish not confirmed within this many ms rejects (PUBLISH_FAILED); also bounds provision/subscribe waits. */
  publishTimeoutMs: publishTimeoutOption,
  /** Socket timeout of a connection attempt, in ms. Default 10000. */
  connectTimeoutMs: { type: 'duration' },
  /** Reconnect backoff: first delay (default 200 ms), doubled per failed attempt up to the max (5000). */
  reconnectDelayMs: { type: 'duration' },
  reconnectMaxDelayMs: { type: 'duration' },
  /** Where the adapter logs; default: the bus's logger. */
  logger: anyOption<Logger>(),
} as const satisfies OptionSpecs

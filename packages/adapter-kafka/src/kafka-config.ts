import { ConfigError } from '@omnibus/core'
import {
  checkOptions,
  DEFAULT_PUBLISH_TIMEOUT_MS,
  type OptionValues,
  type TlsOptions,
  type TransportContext,
  tlsOptions,
  withSafeView,
} from '@omnibus/core/adapter'
import type { Kafka, RetryOptions } from 'kafkajs'
import { kafkaOptions } from './kafka-options.js'
import { saslOptions } from './kafka-security.js'

/** Where kafkajs' own log lines go in the Omnibus logger, at or above this level. */
export type KafkaLogLevel = NonNullable<KafkaTransportOptions['logLevel']>

/** SASL with a user name and password (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512). */
export interface KafkaPasswordSasl {
  mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'
  username: string
  /** The password; or `passwordFile`, a file holding it (one trailing newline is dropped). */
  password?: string
  passwordFile?: string
}

/** SASL/OAUTHBEARER: the provider is called for a token at every (re)authentication. */
export interface KafkaOAuthSasl {
  mechanism: 'oauthbearer'
  oauthBearerProvider: () => Promise<{ value: string }>
}

export type KafkaSaslOptions = KafkaPasswordSasl | KafkaOAuthSasl

/** The options; defaults and meanings are in the package README's table. */
export interface KafkaTransportOptions
  extends Omit<OptionValues<typeof kafkaOptions>, 'brokers' | 'ssl' | 'sasl' | 'kafka' | 'retry'> {
  /** Bootstrap brokers as `host:port` (an array, or one comma-separated string). Required unless `kafka` is given. */
  brokers?: string[] | string
  /** `true` (Node's CAs), or Node TLS options with `caFile`, `certFile`, `keyFile`, `passphraseFile` read from files. */
  ssl?: boolean | TlsOptions
  sasl?: KafkaSaslOptions
  /** An existing kafkajs `Kafka` client (brokers/ssl/sasl/clientId are then ignored). */
  kafka?: Kafka
  retry?: RetryOptions
}

function parseBrokers(key: string, value: unknown): string[] {
  const list = typeof value === 'string' ? value.split(',') : value
  const brokers = Array.isArray(list) ? list.map((b) => (typeof b === 'string' ? b.trim() : b)) : []
  const bad = brokers.find((b) => typeof b !== 'string' || !/^[^\s:]+:\d+$/.test(b))
  if (brokers.length === 0 || bad !== undefined) {
    throw new ConfigError(
      `${key}.brokers`,
      `give the bootstrap brokers as ["host:port", …] (or pass a \`kafka\` client)${bad === undefined ? '' : `, got ${JSON.stringify(bad)}`}`,
    )
  }
  return brokers as string[]
}

/** The defaults (README, Options); replication follows the cluster's size (kafka-provisioner.ts). */
const DEFAULTS = {
  driver: 'kafkajs',
  partitions: 3,
  provision: true,
  // Binary by default (docs/DESIGN.md: consumers route on ce_ headers without reading values).
  mode: 'binary',
  maxMessageBytes: 1024 * 1024,
  groupPrefix: 'omnibus.',
  sessionTimeout: 10_000,
  rebalanceTimeout: 30_000,
  heartbeatInterval: 500,
  maxWaitTimeInMs: 500,
  publishTimeoutMs: DEFAULT_PUBLISH_TIMEOUT_MS,
  logLevel: 'warn',
} as const satisfies KafkaTransportOptions

/** Checks every option and applies the defaults; errors name `context.key`. */
export function parseKafkaConfig(input: KafkaTransportOptions, context: TransportContext) {
  const { key, service, logger } = context
  // `adapter` is the config's own key (options given in code may carry it too).
  const { adapter: _, ...given } = input as KafkaTransportOptions & { adapter?: string }
  const o = { ...DEFAULTS, ...(checkOptions(kafkaOptions, given, key) as KafkaTransportOptions) }
  if (o.heartbeatInterval >= o.sessionTimeout) {
    throw new ConfigError(`${key}.heartbeatInterval`, `must be below sessionTimeout (${o.sessionTimeout} ms)`)
  }
  if ((o.minInsyncReplicas ?? 0) > (o.replicationFactor ?? Number.POSITIVE_INFINITY)) {
    throw new ConfigError(
      `${key}.minInsyncReplicas`,
      `must not exceed replicationFactor (${o.replicationFactor})`,
    )
  }
  // replicationFactor undefined: min(3, brokers in the cluster), asked when the first topic is
  // created; minInsyncReplicas undefined: 2 from replication 3 on, else the broker's default.
  return withSafeView({
    ...o,
    brokers: o.kafka ? [] : parseBrokers(key, o.brokers),
    clientId: o.clientId ?? `omnibus-${service}`,
    ssl:
      o.ssl === undefined || typeof o.ssl === 'boolean'
        ? o.ssl
        : tlsOptions(`${key}.ssl`, o.ssl, logger, 'kafka'),
    sasl: saslOptions(key, o.sasl),
    // Every field is set: kafkajs swaps in tiny test defaults when NODE_ENV=test.
    retry: {
      retries: 10,
      initialRetryTime: 300,
      maxRetryTime: 5_000,
      factor: 0.2,
      multiplier: 2,
      ...o.retry,
    },
  })
}

export type KafkaConfig = ReturnType<typeof parseKafkaConfig>

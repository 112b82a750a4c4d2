import type { ConnectionOptions } from 'node:tls'
import { ConfigError, type Logger, silentLogger } from '@omnibus/core'
import { type TlsOptions, withSafeView } from '@omnibus/core/adapter'
import type { Kafka, RetryOptions, SASLOptions } from 'kafkajs'
import { saslOptions, sslOptions } from './kafka-security.js'

/** Where kafkajs' own log lines go in the Omnibus logger, at or above this level. */
export type KafkaLogLevel = 'nothing' | 'error' | 'warn' | 'info' | 'debug'

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

/** SASL authentication (the mechanisms Kafka brokers commonly offer). */
export type KafkaSaslOptions = KafkaPasswordSasl | KafkaOAuthSasl

export interface KafkaTransportOptions {
  /** Bootstrap brokers as `host:port` (an array, or one comma-separated string for env configs). Required unless `kafka` is given. */
  brokers?: string[] | string
  /** kafkajs client id, shown in broker logs. Default `omnibus-<service>`. */
  clientId?: string
  /**
   * TLS: `true` (Node's CAs), or Node TLS options (ca, cert, key, servername, …) with `caFile`,
   * `certFile`, `keyFile`, `passphraseFile` read from files. `rejectUnauthorized: false` logs a warning.
   */
  ssl?: boolean | TlsOptions
  /** SASL credentials. */
  sasl?: KafkaSaslOptions
  /** An existing kafkajs `Kafka` client to use instead of building one (brokers/ssl/sasl/clientId are then ignored). */
  kafka?: Kafka
  /** Partitions of topics this transport creates. Default 3, so members of a group can share the load. */
  partitions?: number
  /** Replication factor of topics this transport creates. Default: follows the cluster, min(3, number of brokers). */
  replicationFactor?: number
  /**
   * `min.insync.replicas` of topics this transport creates: how many replicas must have a write before
   * it is confirmed (acks=all). Default 2 when the replication factor is 3 or more, else the broker's default.
   */
  minInsyncReplicas?: number
  /** Create missing topics on demand. Default true; false makes a missing topic a CHANNEL_NOT_FOUND error. */
  provision?: boolean
  /**
   * CloudEvents content mode when sending: `binary` (a `ce_` header per attribute, the data as the
   * value; the default, as the Kafka binding has it) or `structured` (the event as JSON in the value,
   * one `content-type` header: kafkajs sends it much faster). Receipt detects either.
   */
  mode?: 'binary' | 'structured'
  /** Largest message in bytes (the topic's max.message.bytes). Default 1 MiB, Kafka's default; larger values are set on topics this transport creates. */
  maxMessageBytes?: number
  /** Prefix of every consumer group id this transport uses. Default `omnibus.`. */
  groupPrefix?: string
  /** Consumer session timeout in ms: how long a silent member keeps its partitions. Default 10000. */
  sessionTimeout?: number
  /** Consumer rebalance timeout in ms: how long a rebalance waits for members to finish in-flight work. Default 30000. */
  rebalanceTimeout?: number
  /** Consumer heartbeat interval in ms; also how fast members notice a rebalance. Default 500. */
  heartbeatInterval?: number
  /** Longest a consumer's fetch waits for new records, in ms; bounds how fast an idle member joins a rebalance. Default 500. */
  maxWaitTimeInMs?: number
  /** kafkajs retry settings for connections, sends and consumer restarts. Default: 10 retries, 300 ms doubling to 5 s (about 35 s in all). */
  retry?: RetryOptions
  /** kafkajs' own log lines at or above this level go to the Omnibus logger. Default `warn`. */
  logLevel?: KafkaLogLevel
}

/** The options after defaults and validation. */
export interface KafkaSettings {
  readonly brokers: string[]
  readonly clientId: string
  readonly ssl: boolean | ConnectionOptions | undefined
  readonly sasl: SASLOptions | undefined
  readonly kafka: Kafka | undefined
  readonly partitions: number
  /** undefined: min(3, brokers in the cluster), looked up when the first topic is created. */
  readonly replicationFactor: number | undefined
  readonly minInsyncReplicas: number | undefined
  readonly provision: boolean
  readonly mode: 'binary' | 'structured'
  readonly maxMessageBytes: number
  readonly groupPrefix: string
  readonly sessionTimeout: number
  readonly rebalanceTimeout: number
  readonly heartbeatInterval: number
  readonly maxWaitTimeInMs: number
  readonly retry: Required<
    Pick<RetryOptions, 'retries' | 'initialRetryTime' | 'maxRetryTime' | 'factor' | 'multiplier'>
  > &
    RetryOptions
  readonly logLevel: KafkaLogLevel
}

export const KAFKA_DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024

const LOG_LEVELS: readonly KafkaLogLevel[] = ['nothing', 'error', 'warn', 'info', 'debug']

function positiveInt(key: string, name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ConfigError(`${key}.${name}`, `must be a positive integer, got ${JSON.stringify(value)}`)
  }
  return value
}

function optionalInt(key: string, name: string, value: unknown): number | undefined {
  return value === undefined ? undefined : positiveInt(key, name, value, 1)
}

function parseBrokers(key: string, value: unknown): string[] {
  const list = typeof value === 'string' ? value.split(',') : value
  if (!Array.isArray(list) || list.length === 0) {
    throw new ConfigError(
      `${key}.brokers`,
      'give the bootstrap brokers as ["host:port", …] (or pass a `kafka` client)',
    )
  }
  const brokers = list.map((b) => (typeof b === 'string' ? b.trim() : b))
  for (const broker of brokers) {
    if (typeof broker !== 'string' || !/^[^\s:]+:\d+$/.test(broker)) {
      throw new ConfigError(
        `${key}.brokers`,
        `each broker must be "host:port", got ${JSON.stringify(broker)}`,
      )
    }
  }
  return brokers as string[]
}

/** Applies defaults and checks every option; `key` is the transport's config key, for errors. */
export function kafkaSettings(
  options: KafkaTransportOptions,
  key: string,
  service: string,
  logger: Logger = silentLogger,
): KafkaSettings {
  const brokers = options.kafka ? [] : parseBrokers(key, options.brokers)
  // Binary by default (docs/DESIGN.md: consumers route on ce_ headers without reading values). kafkajs
  // encodes every header into a fresh zeroed 512-byte buffer, so structured is the faster choice.
  const mode = options.mode ?? 'binary'
  if (mode !== 'binary' && mode !== 'structured') {
    throw new ConfigError(`${key}.mode`, `must be "binary" or "structured", got ${JSON.stringify(mode)}`)
  }
  const logLevel = options.logLevel ?? 'warn'
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`${key}.logLevel`, `must be one of ${LOG_LEVELS.join(', ')}`)
  }
  if (options.provision !== undefined && typeof options.provision !== 'boolean') {
    throw new ConfigError(`${key}.provision`, 'must be true or false')
  }
  const groupPrefix = options.groupPrefix ?? 'omnibus.'
  if (typeof groupPrefix !== 'string') throw new ConfigError(`${key}.groupPrefix`, 'must be a string')
  const sessionTimeout = positiveInt(key, 'sessionTimeout', options.sessionTimeout, 10_000)
  if (
    options.minInsyncReplicas !== undefined &&
    options.replicationFactor !== undefined &&
    options.minInsyncReplicas > options.replicationFactor
  ) {
    throw new ConfigError(
      `${key}.minInsyncReplicas`,
      `must not exceed replicationFactor (${options.replicationFactor})`,
    )
  }
  const heartbeatInterval = positiveInt(key, 'heartbeatInterval', options.heartbeatInterval, 500)
  if (heartbeatInterval >= sessionTimeout) {
    throw new ConfigError(`${key}.heartbeatInterval`, `must be below sessionTimeout (${sessionTimeout} ms)`)
  }
  return withSafeView({
    brokers,
    clientId: options.clientId ?? `omnibus-${service}`,
    ssl: sslOptions(key, options.ssl, logger),
    sasl: saslOptions(key, options.sasl),
    kafka: options.kafka,
    partitions: positiveInt(key, 'partitions', options.partitions, 3),
    replicationFactor: optionalInt(key, 'replicationFactor', options.replicationFactor),
    minInsyncReplicas: optionalInt(key, 'minInsyncReplicas', options.minInsyncReplicas),
    provision: options.provision ?? true,
    mode,
    maxMessageBytes: positiveInt(
      key,
      'maxMessageBytes',
      options.maxMessageBytes,
      KAFKA_DEFAULT_MAX_MESSAGE_BYTES,
    ),
    groupPrefix,
    sessionTimeout,
    rebalanceTimeout: positiveInt(key, 'rebalanceTimeout', options.rebalanceTimeout, 30_000),
    heartbeatInterval,
    maxWaitTimeInMs: positiveInt(key, 'maxWaitTimeInMs', options.maxWaitTimeInMs, 500),
    // Every field is set: kafkajs swaps in tiny test defaults when NODE_ENV=test.
    retry: {
      retries: 10,
      initialRetryTime: 300,
      maxRetryTime: 5_000,
      factor: 0.2,
      multiplier: 2,
      ...options.retry,
    },
    logLevel,
  })
}

import type { OptionSpecs } from '@omnibus/core/adapter'
import { publishTimeoutOption } from '@omnibus/core/adapter'

/**
 * Every option a config may give the kafka adapter, checked by createBus (and by
 * parseKafkaConfig when the transport is built in code): a typo (`clientld`) gets
 * the nearest valid name, environment text takes the key's type (a `clientId` of
 * `007` stays text). What one key cannot say alone is checked in kafka-config.ts.
 * KafkaTransportOptions is typed from these; the `any` ones are typed there.
 */
export const kafkaOptions = {
  /** The client library: `kafkajs` (the default) or `platformatic` (@platformatic/kafka). Install the one you pick. */
  driver: { type: 'string', oneOf: ['kafkajs', 'platformatic'] },
  brokers: { type: 'any' },
  clientId: { type: 'string' },
  ssl: { type: 'any' },
  sasl: { type: 'any' },
  kafka: { type: 'any' },
  partitions: { type: 'integer' },
  replicationFactor: { type: 'integer' },
  minInsyncReplicas: { type: 'integer' },
  provision: { type: 'boolean' },
  /** `binary` (a `ce_` header per attribute, the Kafka binding's default) or `structured` (JSON value). */
  mode: { type: 'string', oneOf: ['binary', 'structured'] },
  maxMessageBytes: { type: 'integer' },
  groupPrefix: { type: 'string' },
  sessionTimeout: { type: 'integer' },
  rebalanceTimeout: { type: 'integer' },
  heartbeatInterval: { type: 'integer' },
  maxWaitTimeInMs: { type: 'integer' },
  /** Longest a publish waits for the broker's confirm before it rejects with PUBLISH_FAILED. */
  publishTimeoutMs: publishTimeoutOption,
  retry: { type: 'object' },
  /** Where kafkajs' own log lines go in the Omnibus logger, at or above this level. */
  logLevel: { type: 'string', oneOf: ['nothing', 'error', 'warn', 'info', 'debug'] },
} as const satisfies OptionSpecs

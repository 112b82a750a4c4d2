import { type OptionSpecs, publishTimeoutOption } from '@omnibus/core/adapter'

/**
 * Every option a config may give the kafka adapter, checked by createBus (and by
 * parseKafkaConfig when the transport is built in code): a typo (`clientld`) gets
 * the nearest valid name, environment text takes the key's type (a `clientId` of
 * `007` stays text). What one key cannot say alone is checked in kafka-config.ts.
 */
export const kafkaOptions: OptionSpecs = {
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
  mode: { type: 'string', oneOf: ['binary', 'structured'] },
  maxMessageBytes: { type: 'integer' },
  groupPrefix: { type: 'string' },
  sessionTimeout: { type: 'integer' },
  rebalanceTimeout: { type: 'integer' },
  heartbeatInterval: { type: 'integer' },
  maxWaitTimeInMs: { type: 'integer' },
  publishTimeoutMs: publishTimeoutOption,
  retry: { type: 'object' },
  logLevel: { type: 'string', oneOf: ['nothing', 'error', 'warn', 'info', 'debug'] },
}

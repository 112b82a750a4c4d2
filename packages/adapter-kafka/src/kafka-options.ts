import type { OptionSpecs } from '@omnibus/core/adapter'

/**
 * Every option a config may give the kafka adapter, so that createBus refuses a typo
 * (`clientld`) with the nearest valid name, and environment text takes the key's type
 * (a `clientId` of `007` stays text). Values are then checked in detail by kafka-config.ts.
 */
export const kafkaOptions: OptionSpecs = {
  brokers: { type: 'any' },
  clientId: { type: 'string' },
  ssl: { type: 'any' },
  sasl: { type: 'any' },
  kafka: { type: 'any' },
  partitions: { type: 'any' },
  replicationFactor: { type: 'any' },
  minInsyncReplicas: { type: 'any' },
  provision: { type: 'boolean' },
  mode: { type: 'string', oneOf: ['binary', 'structured'] },
  maxMessageBytes: { type: 'any' },
  groupPrefix: { type: 'string' },
  sessionTimeout: { type: 'any' },
  rebalanceTimeout: { type: 'any' },
  heartbeatInterval: { type: 'any' },
  maxWaitTimeInMs: { type: 'any' },
  retry: { type: 'any' },
  logLevel: { type: 'any' },
}

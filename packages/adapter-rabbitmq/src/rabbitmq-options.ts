import type { OptionSpecs } from '@omnibus/core/adapter'

/**
 * Every option a config may give the rabbitmq adapter, so that createBus refuses a typo
 * (`prefetc`) with the nearest valid name, and environment text takes the key's type (a
 * `password` of `123456` stays text). Values are then checked in detail by rabbitmq-config.ts.
 */
export const rabbitmqOptions: OptionSpecs = {
  url: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'any' },
  vhost: { type: 'string' },
  username: { type: 'string' },
  password: { type: 'string' },
  passwordFile: { type: 'string' },
  tls: { type: 'any' },
  auth: { type: 'string', oneOf: ['plain', 'external'] },
  socketOptions: { type: 'any' },
  heartbeat: { type: 'any' },
  prefetch: { type: 'any' },
  quorum: { type: 'boolean' },
  singleActiveConsumer: { type: 'boolean' },
  mode: { type: 'string', oneOf: ['binary', 'structured'] },
  declare: { type: 'boolean' },
  provision: { type: 'boolean' },
  maxMessageBytes: { type: 'any' },
  publishTimeoutMs: { type: 'any' },
  connectTimeoutMs: { type: 'any' },
  reconnectDelayMs: { type: 'any' },
  reconnectMaxDelayMs: { type: 'any' },
  logger: { type: 'any' },
}

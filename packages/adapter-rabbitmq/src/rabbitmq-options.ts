import { type OptionSpecs, publishTimeoutOption } from '@omnibus/core/adapter'

/**
 * Every option of the rabbitmq adapter, checked by createBus and again by parseRabbitMQConfig (for
 * a transport built in code): a typo (`prefetc`) fails naming the nearest valid key, environment
 * text takes the key's type (a `password` of `123456` stays text), numbers are checked for range.
 */
export const rabbitmqOptions: OptionSpecs = {
  url: { type: 'string' },
  host: { type: 'string' },
  port: { type: 'integer', max: 65535 },
  vhost: { type: 'string' },
  username: { type: 'string' },
  password: { type: 'string' },
  passwordFile: { type: 'string' },
  tls: { type: 'any' },
  auth: { type: 'string', oneOf: ['plain', 'external'] },
  socketOptions: { type: 'object' },
  heartbeat: { type: 'integer', min: 0, max: 65535 },
  prefetch: { type: 'integer', max: 65535 },
  quorum: { type: 'any' },
  deliveryLimit: { type: 'integer' },
  singleActiveConsumer: { type: 'boolean' },
  mode: { type: 'string', oneOf: ['binary', 'structured'] },
  declare: { type: 'boolean' },
  provision: { type: 'boolean' },
  maxMessageBytes: { type: 'integer' },
  publishTimeoutMs: publishTimeoutOption,
  connectTimeoutMs: { type: 'duration' },
  reconnectDelayMs: { type: 'duration' },
  reconnectMaxDelayMs: { type: 'duration' },
  logger: { type: 'any' },
}

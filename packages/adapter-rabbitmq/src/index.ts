/** @omnibus/adapter-rabbitmq: the Omnibus transport for RabbitMQ (amqplib). */
export { fromAmqp, HEADER_PREFIX, READ_PREFIXES, toAmqp } from './rabbitmq-binding.js'
export {
  DEFAULT_MAX_MESSAGE_BYTES,
  parseRabbitMQConfig,
  type RabbitMQSettings,
  type RabbitMQTransportOptions,
} from './rabbitmq-config.js'
export { groupQueueName } from './rabbitmq-provisioner.js'
export { adapter, RABBITMQ, RabbitMQTransport, rabbitmqTransport } from './rabbitmq-transport.js'

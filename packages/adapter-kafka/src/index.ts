/** @omnibus/adapter-kafka: the Omnibus transport for Apache Kafka, on kafkajs. */
export { CE_PREFIX, fromRecord, type KafkaRecord, toRecord } from './kafka-binding.js'
export type { KafkaLogLevel, KafkaSaslOptions, KafkaTransportOptions } from './kafka-config.js'
export { groupIdFor, topicName } from './kafka-provisioner.js'
export { adapter, KAFKA, KafkaTransport, kafkaTransport } from './kafka-transport.js'

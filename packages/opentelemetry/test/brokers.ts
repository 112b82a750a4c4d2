import type { TransportSpec } from '@omnibus/core/adapter'

/** The shared test brokers (scripts/brokers), or the ones the environment names. */
export const kafka = (): TransportSpec => ({
  adapter: 'kafka',
  brokers: (process.env.OMNIBUS_KAFKA_BROKERS ?? '127.0.0.1:9092').split(','),
})
export const rabbitmq = (): TransportSpec => ({
  adapter: 'rabbitmq',
  url: process.env.OMNIBUS_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
})
export const aws = (): TransportSpec => ({
  adapter: 'aws',
  region: 'us-east-1',
  endpoint: process.env.OMNIBUS_AWS_ENDPOINT ?? 'http://127.0.0.1:4566',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
})
export const gcp = (): TransportSpec => ({
  adapter: 'gcp',
  projectId: 'omnibus-test',
  emulatorHost: process.env.PUBSUB_EMULATOR_HOST ?? '127.0.0.1:8085',
})

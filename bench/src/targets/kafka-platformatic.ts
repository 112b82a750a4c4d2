import { kafkaTransport } from '@omnibus/adapter-kafka'
import type { BenchTarget } from '../target.js'
import { kafka } from './kafka.js'

const brokers = (process.env.OMNIBUS_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',')

/**
 * The Kafka adapter on its second driver, @platformatic/kafka (issue 20 #1), binary mode as the
 * default: measured against the same raw kafkajs sides as `kafka`, so both drivers' rows compare
 * with kafkajs sending the same bytes and bare data.
 */
const target: BenchTarget = {
  ...kafka,
  name: 'kafka-platformatic',
  peers: [],
  transport: () => kafkaTransport({ brokers, driver: 'platformatic', logLevel: 'nothing' }),
}
export default target

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
  // OMNIBUS_BENCH_KAFKA_MODE=structured measures structured mode, OMNIBUS_BENCH_KAFKA_DRIVER=kafkajs the
  // other driver through this same target (for the structured rows of the comparison).
  transport: () =>
    kafkaTransport({
      brokers,
      driver: process.env.OMNIBUS_BENCH_KAFKA_DRIVER === 'kafkajs' ? 'kafkajs' : 'platformatic',
      mode: process.env.OMNIBUS_BENCH_KAFKA_MODE === 'structured' ? 'structured' : 'binary',
      logLevel: 'nothing',
    }),
}
export default target

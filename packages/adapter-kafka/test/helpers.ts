import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { consoleLogger, type Envelope, OmnibusError } from '@omnibus/core'
import { createEvent, type Delivery, type LogLevel, type Transport } from '@omnibus/core/adapter'
import { Kafka, logLevel } from 'kafkajs'
import { expect } from 'vitest'
import { type KafkaTransportOptions, kafkaTransport, topicName } from '../src/index.js'

export const BROKERS = (process.env.OMNIBUS_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',')
/** Which scripts/brokers broker the tests run on: `kafka`, or `kafka-cluster` (`npm run conformance -- kafka-cluster`). */
export const BROKER_NAME = process.env.OMNIBUS_KAFKA_BROKER_NAME ?? 'kafka'

export { uniq, waitFor } from '@omnibus/conformance'

export function transport(options: Partial<KafkaTransportOptions> = {}): Transport {
  // OMNIBUS_TEST_LOG=debug|info|warn shows the adapter's (and kafkajs') log lines.
  const level = process.env.OMNIBUS_TEST_LOG as LogLevel | undefined
  // OMNIBUS_KAFKA_DRIVER=platformatic runs a test file on the second driver.
  const driver = process.env.OMNIBUS_KAFKA_DRIVER as KafkaTransportOptions['driver']
  return kafkaTransport(
    { brokers: BROKERS, ...(driver ? { driver } : {}), ...options },
    { key: 'transports.test', service: 'adapter-test', ...(level ? { logger: consoleLogger(level) } : {}) },
  )
}

/** kafkajs itself, for looking at what is on the wire. */
export const rawKafka = (): Kafka =>
  new Kafka({ brokers: BROKERS, clientId: 'adapter-kafka-test', logLevel: logLevel.NOTHING })

export const event = (type: string, extra: Partial<Parameters<typeof createEvent>[0]> = {}): Envelope =>
  createEvent({ type, source: 'urn:test', data: { n: 1 }, ...extra })

/** A handler that records every delivery. */
export function recorder(): { deliveries: Delivery[]; handler: (d: Delivery) => Promise<void> } {
  const deliveries: Delivery[] = []
  return { deliveries, handler: async (d) => void deliveries.push(d) }
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')

/** Runs scripts/brokers with `args`, resolving with its output once it has finished. */
export async function brokers(...args: string[]): Promise<string> {
  const script = process.env.OMNIBUS_BROKERS_SCRIPT ?? resolve(root, 'scripts/brokers')
  if (!existsSync(script)) throw new Error(`no broker script at ${script} (set OMNIBUS_BROKERS_SCRIPT)`)
  const { stdout } = await promisify(execFile)('bash', [script, ...args], { timeout: 300_000 })
  return stdout
}

/** Restarts the test broker (every node of the cluster) with the project's script, resolving when it answers again. */
export async function restartKafka(): Promise<void> {
  await brokers('restart', BROKER_NAME)
}

/** A foreign producer writing straight to the channel's topic, as any Kafka client would (conformance case 9). */
export async function injectRaw(channel: { name: string }, body: Uint8Array | string): Promise<void> {
  const producer = rawKafka().producer({ allowAutoTopicCreation: false })
  await producer.connect()
  try {
    await producer.send({ topic: topicName(channel.name), messages: [{ value: Buffer.from(body) }] })
  } finally {
    await producer.disconnect()
  }
}

/** While the broker is killed or restarting, a publish may only fail as PUBLISH_FAILED (within publishTimeoutMs), never otherwise. */
export function expectPublishFailed(rejected: readonly unknown[]): void {
  for (const failure of rejected) {
    expect(failure).toBeInstanceOf(OmnibusError)
    expect((failure as OmnibusError).code).toBe('PUBLISH_FAILED')
  }
}

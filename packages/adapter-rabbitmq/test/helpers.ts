import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { Envelope } from '@omnibus/core'
import type { Delivery, Subscription } from '@omnibus/core/adapter'
import amqp from 'amqplib'
import { type RabbitMQTransport, type RabbitMQTransportOptions, rabbitmqTransport } from '../src/index.js'

export const RABBITMQ_URL = process.env.OMNIBUS_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672'

export const unique = (prefix: string): string => `${prefix}.${crypto.randomUUID().slice(0, 8)}`

/** A connected transport against the test broker. */
export async function connected(options: RabbitMQTransportOptions = {}): Promise<RabbitMQTransport> {
  const transport = rabbitmqTransport({ url: RABBITMQ_URL, ...options })
  await transport.connect()
  return transport
}

/** Polls `condition` until it holds, failing after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Collects what a subscription receives. */
export function collector(): {
  got: Delivery[]
  events: () => Envelope[]
  handler: (d: Delivery) => Promise<void>
} {
  const got: Delivery[] = []
  return {
    got,
    events: () => got.flatMap((d) => (d.event ? [d.event] : [])),
    handler: async (d) => {
      got.push(d)
    },
  }
}

/** Runs `work` with a plain amqplib channel (the broker's own client, as a foreign producer would). */
export async function withRaw<T>(work: (ch: amqp.Channel) => Promise<T>): Promise<T> {
  const connection = await amqp.connect(RABBITMQ_URL)
  try {
    const ch = await connection.createChannel()
    // A failed passive check closes the channel with an 'error' event; the rejected promise reports it.
    ch.on('error', () => undefined)
    return await work(ch)
  } finally {
    await connection.close().catch(() => undefined)
  }
}

const brokersScript =
  process.env.OMNIBUS_BROKERS_SCRIPT ?? fileURLToPath(new URL('../../../scripts/brokers', import.meta.url))

/** Restarts the test broker through the project's script, resolving when it is back. */
export async function restartBroker(): Promise<void> {
  await promisify(execFile)('bash', [brokersScript, 'restart', 'rabbitmq'], { timeout: 180_000 })
}

export async function closeAll(...things: (Subscription | RabbitMQTransport | undefined)[]): Promise<void> {
  for (const thing of things) await thing?.close().catch(() => undefined)
}

import { spawn } from 'node:child_process'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createBus, type Envelope } from '@omnibus/core'
import { afterAll, describe, expect, it } from 'vitest'
import { cleanUp, freshDurable, logger, newPool, POSTGRES_URL, uniq, waitFor } from './helpers.js'

const pool = newPool(5)
afterAll(() => cleanUp(pool))
const rabbit = process.env.OMNIBUS_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672'
const relayMain = resolve(dirname(fileURLToPath(import.meta.url)), '../dist/relay-main.js')

describe('the relay as its own process (omnibus-relay)', () => {
  it('publishes what services commit to the outbox, through the bus config it is given, and stops on SIGTERM', async () => {
    const durable = await freshDurable(pool, 'writer')
    const type = uniq('com.test.relayproc')
    const transports = { main: { adapter: 'rabbitmq', url: rabbit } }
    const consumer = await createBus({ service: 'relay-proc-reader', transports, logger })
    const seen: Envelope[] = []
    consumer.on(type, async (e) => void seen.push(e))
    await consumer.start()
    const stderr: string[] = []
    const relay = spawn(process.execPath, [relayMain], {
      env: {
        ...process.env,
        OMNIBUS_POSTGRES_URL: POSTGRES_URL,
        OMNIBUS_OUTBOX_SCHEMA: durable.schema,
        OMNIBUS_CONFIG: JSON.stringify({ service: 'relay', transports }),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    relay.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()))
    try {
      await waitFor('the relay running', () => stderr.join('').includes('outbox relay running'), 30_000)
      const [written] = await durable.outbox.publish(pool, { type, data: { n: 1 } })
      await waitFor('the event, through RabbitMQ', () => seen.length === 1)
      expect(seen[0]!.id).toBe(written!.id)
      expect(seen[0]!.source).toBe('urn:omnibus:writer')
    } finally {
      const exited = new Promise((r) => relay.once('exit', r))
      relay.kill('SIGTERM')
      expect(await exited).toBe(0)
      await consumer.stop()
    }
  })
})

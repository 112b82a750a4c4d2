import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { capturingLogger } from '@omnibus/conformance'
import { createEvent, type OmnibusError } from '@omnibus/core/adapter'
import { afterAll, expect, test } from 'vitest'
import { type RabbitMQTransport, rabbitmqTransport } from '../src/index.js'
import { closeAll, RABBITMQ_URL, unique, waitFor } from './helpers.js'

const run = promisify(execFile)
const brokers = new URL('../../../scripts/brokers', import.meta.url).pathname

/** SIGKILL of the broker's Erlang VM (the process listening on the AMQP port): no goodbye on any socket. */
async function killBroker(): Promise<void> {
  const { stdout } = await run('ss', ['-ltnpH', `sport = :${new URL(RABBITMQ_URL).port || 5672}`])
  const pids = [...new Set([...stdout.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1])))]
  expect(pids.length).toBeGreaterThan(0)
  for (const pid of pids) process.kill(pid, 'SIGKILL')
}

const open: RabbitMQTransport[] = []
afterAll(async () => {
  await closeAll(...open.splice(0))
  // Leave RabbitMQ up for whoever runs next, whatever happened above.
  await run('bash', [brokers, 'up', 'rabbitmq'], { timeout: 180_000 })
})

// Issue 19 #2 and #5, run under the broker lock (it kills the shared RabbitMQ): a publish never waits
// longer than publishTimeoutMs, the publisher is not held once the broker is back, every confirmed
// event is delivered, and the consumer comes back by itself, saying so once at warn and once at info.
test('kill -9 of RabbitMQ mid-stream: bounded publishes, nothing confirmed lost, the consumer resumes', async () => {
  const publishTimeoutMs = 2000
  const { logger, lines } = capturingLogger()
  const t = rabbitmqTransport({ url: RABBITMQ_URL, publishTimeoutMs, reconnectMaxDelayMs: 500, logger })
  open.push(t)
  await t.connect()
  const channel = { name: unique('kill'), kind: 'topic' as const }
  const received = new Map<string, number>()
  await t.subscribe(
    channel,
    'g',
    async (d) => void received.set(d.event!.id, (received.get(d.event!.id) ?? 0) + 1),
    {
      maxInFlight: 32,
    },
  )
  const confirmed: string[] = []
  const failures: string[] = []
  let slowest = 0
  let stop = false
  let backAt = 0
  let firstAfterBack = 0
  const lane = async () => {
    while (!stop) {
      const event = createEvent({ type: 'com.example.kill', source: '/t', data: { n: confirmed.length } })
      const started = Date.now()
      await t.publish(channel, [event]).then(
        () => {
          confirmed.push(event.id)
          if (backAt && !firstAfterBack) firstAfterBack = Date.now()
        },
        (error: OmnibusError) => failures.push(error.code),
      )
      slowest = Math.max(slowest, Date.now() - started)
    }
  }
  const lanes = Array.from({ length: 8 }, lane)
  await waitFor('500 confirmed before the kill', () => confirmed.length >= 500, 20_000)
  await killBroker()
  const killedAt = Date.now()
  // restart, not up: `down` first clears what the killed VM left (its start script, helpers).
  await run('bash', [brokers, 'restart', 'rabbitmq'], { timeout: 180_000 })
  backAt = Date.now()
  const before = confirmed.length
  await waitFor('500 more confirmed after the restart', () => confirmed.length >= before + 500, 30_000)
  stop = true
  await Promise.all(lanes)
  const lost = () => confirmed.filter((id) => !received.has(id))
  await waitFor('every confirmed event delivered', () => lost().length === 0, 30_000).catch(() => undefined)
  const duplicates = [...received.values()].filter((n) => n > 1).length
  const report = `confirmed ${confirmed.length}, rejected ${failures.length}, lost ${lost().length}, duplicates ${duplicates}, broker down ${backAt - killedAt} ms, first confirm ${firstAfterBack - backAt} ms after it was back, slowest publish ${slowest} ms`
  expect(lost(), report).toEqual([])
  expect(new Set(failures), report).toEqual(new Set(failures.length ? ['PUBLISH_FAILED'] : []))
  expect(slowest, report).toBeLessThan(publishTimeoutMs + 1000)
  expect(firstAfterBack - backAt, report).toBeLessThan(publishTimeoutMs + 1000)
  const logged = (level: string, text: string) =>
    lines.filter((l) => l.startsWith(`${level} [rabbitmq] ${text}`))
  expect(logged('warn', 'consumer lost the broker'), report).toHaveLength(1)
  expect(logged('info', 'consumer resumed'), report).toHaveLength(1)
  expect(logged('info', 'consumer resumed')[0], report).toMatch(/"outageMs":\d+/)
  console.info(`[rabbitmq-kill] ${report}`)
}, 240_000)

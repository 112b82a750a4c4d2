import { createEvent } from '@omnibus/core/adapter'
import { afterEach, expect, test } from 'vitest'
import { groupQueueName, type RabbitMQTransport } from '../src/index.js'
import { closeAll, connected, unique, waitFor, withRaw } from './helpers.js'

// The management API closes our connection the way a network failure or an operator would.
const MGMT = process.env.OMNIBUS_RABBITMQ_MGMT_URL ?? 'http://127.0.0.1:15672'
const auth = `Basic ${Buffer.from('guest:guest').toString('base64')}`

async function killConnections(connectionName: string): Promise<number> {
  let names: string[] = []
  const poll = async () => {
    const res = await fetch(`${MGMT}/api/connections?columns=name,client_properties`, {
      headers: { authorization: auth },
    })
    const list = (await res.json()) as { name: string; client_properties?: { connection_name?: string } }[]
    names = list.filter((c) => c.client_properties?.connection_name === connectionName).map((c) => c.name)
  }
  // The management plugin lists a new connection after its next stats tick (5 s by default).
  const deadline = Date.now() + 15_000
  while (names.length === 0 && Date.now() < deadline) {
    await poll()
    if (names.length === 0) await new Promise((resolve) => setTimeout(resolve, 250))
  }
  for (const name of names) {
    await fetch(`${MGMT}/api/connections/${encodeURIComponent(name)}`, {
      method: 'DELETE',
      headers: { authorization: auth, 'x-reason': 'omnibus reconnect test' },
    })
  }
  return names.length
}

const open: RabbitMQTransport[] = []
afterEach(async () => {
  await closeAll(...open.splice(0))
})

const event = (i: number) => createEvent({ type: 'com.example.reconnect', source: '/t', data: { i } })

test('a killed connection comes back: publishes wait and resolve, the consumer resumes, nothing is lost', async () => {
  const connectionName = unique('omnibus-reconnect')
  const t = await connected({ socketOptions: { clientProperties: { connection_name: connectionName } } })
  open.push(t)
  const channel = { name: unique('reconnect'), kind: 'topic' as const }
  const handled = new Set<number>()
  const sub = await t.subscribe(
    channel,
    'g',
    async (d) => void handled.add((d.event!.data as { i: number }).i),
    {
      maxInFlight: 8,
    },
  )
  let sent = 0
  const publishing = (async () => {
    for (let i = 0; i < 400; i++) {
      await t.publish(channel, [event(i)])
      sent++
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
  })()
  await waitFor('some publishes before the kill', () => sent >= 50, 10_000)
  expect(await killConnections(connectionName)).toBeGreaterThan(0)
  await publishing
  await waitFor('every event handled after the reconnection', () => handled.size === 400, 30_000)
  await sub.close()
}, 60_000)

test('a consumer whose queue was deleted under it declares it again and resumes', async () => {
  const t = await connected()
  open.push(t)
  const channel = { name: unique('deleted'), kind: 'topic' as const }
  const handled = new Set<number>()
  const sub = await t.subscribe(
    channel,
    'g',
    async (d) => void handled.add((d.event!.data as { i: number }).i),
    {
      maxInFlight: 4,
    },
  )
  await t.publish(channel, [event(1)])
  await waitFor('the first event', () => handled.has(1), 10_000)
  await withRaw((ch) => ch.deleteQueue(groupQueueName(channel.name, 'g')))
  // Publish until the re-declared queue catches one (events sent while it was gone are rightly dropped).
  for (let i = 2; !handled.has(i - 1) || i < 3; i++) {
    await t.publish(channel, [event(i)])
    await waitFor('a delivery', () => handled.has(i), 500).catch(() => undefined)
    if (i > 100) throw new Error('the consumer did not resume')
  }
  await sub.close()
}, 30_000)

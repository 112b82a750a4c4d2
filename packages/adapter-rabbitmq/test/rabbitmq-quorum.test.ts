import { createEvent, type Delivery } from '@omnibus/core/adapter'
import { afterEach, expect, test } from 'vitest'
import { groupQueueName, type RabbitMQTransport } from '../src/index.js'
import { closeAll, connected, unique, waitFor, withRaw } from './helpers.js'

const open: RabbitMQTransport[] = []
afterEach(async () => {
  await closeAll(...open.splice(0))
})
const event = () => createEvent({ type: 'com.example.quorum', source: '/t', data: { ok: true } })
const queueInfo = (queue: string) => withRaw(async (ch) => ch.checkQueue(queue))

test('quorum: a list of names picks the queues; others stay classic', async () => {
  const topic = { name: unique('q-topic'), kind: 'topic' as const }
  const other = { name: unique('q-other'), kind: 'topic' as const }
  const t = await connected({ quorum: [topic.name] })
  open.push(t)
  await t.provision(topic, 'g')
  await t.provision(other, 'g')
  // Declaring as classic what is quorum fails (406), and the other way round: that tells the types.
  const classicDeclare = (queue: string) =>
    withRaw((ch) =>
      ch.assertQueue(queue, { durable: true }).then(
        () => 'classic',
        () => 'not classic',
      ),
    )
  expect(await classicDeclare(groupQueueName(topic.name, 'g'))).toBe('not classic')
  expect(await classicDeclare(groupQueueName(other.name, 'g'))).toBe('classic')
  // The dead-letter queue the broker dead-letters into exists before anything is delivered.
  expect((await queueInfo(`${topic.name}.dlq`)).messageCount).toBe(0)
})

test('quorum: the broker delivers deliveryLimit + 1 times, then dead-letters into <channel>.dlq', async () => {
  const t = await connected({ quorum: true, deliveryLimit: 2 })
  open.push(t)
  const channel = { name: unique('q-limit'), kind: 'queue' as const }
  const counts: number[] = []
  const failing = async (d: Delivery) => {
    counts.push(d.deliveryCount)
    throw new Error('always fails')
  }
  const sub = await t.subscribe(channel, channel.name, failing, { maxInFlight: 1 })
  await t.publish(channel, [event()])
  // The broker's dead-lettering moves it after the third rejection: then no fourth delivery can come.
  await waitFor(
    'the message in the dead-letter queue',
    async () => (await queueInfo(`${channel.name}.dlq`)).messageCount === 1,
    10_000,
  )
  await sub.close()
  expect(counts).toEqual([1, 2, 3])
  expect((await queueInfo(`${channel.name}.dlq`)).messageCount).toBe(1)
  expect((await queueInfo(channel.name)).messageCount).toBe(0)
})

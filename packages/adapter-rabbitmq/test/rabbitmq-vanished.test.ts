import { createEvent } from '@omnibus/core/adapter'
import { afterEach, expect, test } from 'vitest'
import { groupQueueName, type RabbitMQTransport } from '../src/index.js'
import { closeAll, connected, unique, waitFor, withRaw } from './helpers.js'

const open: RabbitMQTransport[] = []
afterEach(async () => {
  await closeAll(...open.splice(0))
})

// Issue 19 #1: an operator deletes the exchange, then the group's queue, while events are published.
// The publisher must declare them again before it confirms: every confirmed event is delivered, except
// those that were in the queue when it was deleted (the broker itself dropped them).
test('exchange and queue deleted mid-stream: no confirmed event lost beyond what the deleted queue held', async () => {
  const t = await connected({ reconnectDelayMs: 50 })
  open.push(t)
  const channel = { name: unique('vanish'), kind: 'topic' as const }
  const received = new Set<string>()
  const sub = await t.subscribe(channel, 'g', async (d) => void received.add(d.event!.id), {
    maxInFlight: 16,
  })
  const confirmed: string[] = []
  let rejected = 0
  const total = 1500
  // RabbitMQ confirms a message routed to a queue that is being deleted (and drops it with the queue):
  // the publishes in flight while the queue is deleted may be lost by the broker, like the queue's content.
  let current = ''
  let deleting = false
  const duringDelete = new Set<string>()
  const publishing = (async () => {
    for (let i = 0; i < total; i++) {
      const event = createEvent({ type: 'com.example.vanish', source: '/t', data: { i } })
      current = event.id
      if (deleting) duringDelete.add(event.id)
      await t.publish(channel, [event]).then(
        () => confirmed.push(event.id),
        () => rejected++,
      )
    }
  })()
  await waitFor('300 confirmed before the deletion', () => confirmed.length >= 300, 20_000)
  await withRaw((ch) => ch.deleteExchange(channel.name))
  // Enough publishes for one that only re-creates the exchange to confirm many of them to nobody.
  const atDeletion = confirmed.length
  await waitFor(
    '200 publishes after the exchange was deleted',
    () => confirmed.length + rejected >= atDeletion + 200,
    20_000,
  )
  const { messageCount: dropped } = await withRaw(async (ch) => {
    deleting = true
    duringDelete.add(current)
    const deleted = await ch.deleteQueue(groupQueueName(channel.name, 'g'))
    duringDelete.add(current)
    deleting = false
    return deleted
  })
  await publishing
  const missing = () => confirmed.filter((id) => !received.has(id) && !duringDelete.has(id))
  await waitFor('every confirmed event delivered', () => missing().length <= dropped, 20_000).catch(
    () => undefined,
  )
  await sub.close()
  expect(confirmed.length + rejected).toBe(total)
  expect(rejected).toBe(0)
  expect(
    missing().length,
    `${confirmed.length} confirmed, ${dropped} dropped with the queue`,
  ).toBeLessThanOrEqual(dropped)
  expect(duringDelete.size).toBeLessThanOrEqual(20) // the exemption stays small: the deletion is one round trip
}, 60_000)

test('a publisher that knows no group of a deleted exchange rejects CHANNEL_NOT_FOUND until a queue is bound again', async () => {
  const publisher = await connected()
  const other = await connected()
  open.push(publisher, other)
  const channel = { name: unique('vanish-other'), kind: 'topic' as const }
  const event = () => createEvent({ type: 'com.example.vanish', source: '/t', data: {} })
  await other.provision(channel, 'g')
  await publisher.publish(channel, [event()])
  await withRaw((ch) => ch.deleteExchange(channel.name))
  // The group's queue is still there, but its binding went with the exchange: nobody would get this.
  await expect(publisher.publish(channel, [event()])).rejects.toMatchObject({ code: 'CHANNEL_NOT_FOUND' })
  await expect(publisher.publish(channel, [event()])).rejects.toMatchObject({ code: 'CHANNEL_NOT_FOUND' })
  // Its consumer side declares again (here: a new transport provisioning the group): publishes confirm again.
  const again = await connected()
  open.push(again)
  await again.provision(channel, 'g')
  await publisher.publish(channel, [event()])
  expect((await withRaw((ch) => ch.checkQueue(groupQueueName(channel.name, 'g')))).messageCount).toBe(2)
})

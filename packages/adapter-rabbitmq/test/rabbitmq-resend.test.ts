import { capturingLogger } from '@omnibus/conformance'
import type { OmnibusError } from '@omnibus/core'
import { createEvent } from '@omnibus/core/adapter'
import { expect, it } from 'vitest'
import { closeAll, connected, unique, waitFor, withRaw } from './helpers.js'

const event = (seq: number) => createEvent({ type: 'com.test.resend', source: '/t', data: { seq } })

/** A queue channel whose queue holds one message and nacks publishes beyond it (`x-overflow: reject-publish`). */
async function fullQueue(): Promise<{ name: string; kind: 'queue' }> {
  const name = unique('resend')
  const args = { 'x-max-length': 1, 'x-overflow': 'reject-publish' }
  await withRaw((ch) => ch.assertQueue(name, { durable: true, arguments: args }))
  return { name, kind: 'queue' }
}

it('a nacked publish is sent again, in order, until the broker takes it; the outage is logged once', async () => {
  const { logger, lines } = capturingLogger()
  const t = await connected({ publishTimeoutMs: 20_000, logger })
  const channel = await fullQueue()
  try {
    await t.publish(channel, [event(0)]) // the queue is full from now on
    const settled: number[] = []
    const later = [1, 2, 3].map((seq) => t.publish(channel, [event(seq)]).then(() => void settled.push(seq)))
    const said = (text: string) => lines.filter((l) => l.startsWith(text))
    await waitFor('a nack', () => said('warn [rabbitmq] publishes nacked').length > 0, 10_000)
    // Each message taken off the queue makes room for the next resend, which keeps its place in line.
    const got: number[] = []
    await withRaw((ch) =>
      waitFor('the four events, one at a time', async () => {
        const message = await ch.get(channel.name, { noAck: true })
        if (message) got.push((JSON.parse(message.content.toString()) as { seq: number }).seq)
        return got.length === 4
      }),
    )
    await Promise.all(later)
    expect(got).toEqual([0, 1, 2, 3])
    expect(settled).toEqual([1, 2, 3])
    expect(said('warn [rabbitmq] publishes nacked')).toHaveLength(1)
    expect(said('info [rabbitmq] publishes confirmed again')).toHaveLength(1)
  } finally {
    await closeAll(t)
    await withRaw((ch) => ch.deleteQueue(channel.name))
  }
})

it('a publish the broker keeps nacking rejects PUBLISH_FAILED once publishTimeoutMs has passed', async () => {
  const t = await connected({ publishTimeoutMs: 1000 })
  const channel = await fullQueue()
  try {
    await t.publish(channel, [event(0)])
    const started = Date.now()
    const failure = await t.publish(channel, [event(1)]).then(
      () => undefined,
      (error: unknown) => error as OmnibusError,
    )
    expect(failure?.code).toBe('PUBLISH_FAILED')
    expect(Date.now() - started).toBeGreaterThanOrEqual(990) // timers may round down a millisecond
    expect(failure?.message).toMatch(/publishTimeoutMs \(1000 ms\)/)
  } finally {
    await closeAll(t)
    await withRaw((ch) => ch.deleteQueue(channel.name))
  }
})

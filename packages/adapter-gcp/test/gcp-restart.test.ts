import type { OmnibusError } from '@omnibus/core'
import { createEvent } from '@omnibus/core/adapter'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { GcpTransport } from '../src/index.js'
import { channel, makeTransport, rawClient, restartEmulator, unique, waitFor } from './helpers.js'

const event = (n: number) => createEvent({ type: 'com.acme.restart', source: 'urn:test:gcp', data: { n } })

describe('gcp transport across an emulator restart', () => {
  let transport: GcpTransport

  beforeAll(async () => {
    // A short publish timeout, so that publishes during the outage reject instead of waiting it out.
    transport = makeTransport({ publishTimeoutMs: 400 })
    await transport.connect()
  })
  afterAll(() => transport.close())

  it('reports publishes it could not confirm, then re-creates what vanished and flows again', async () => {
    const events = channel('topic')
    const commands = channel('queue')
    const group = unique('g')
    const untouched = unique('untouched')
    const pubsub = rawClient()
    await pubsub.createTopic(untouched)

    const got = new Set<number>()
    const handler = async (d: { event?: { data?: unknown } }) =>
      void got.add((d.event!.data as { n: number }).n)
    const subs = [
      await transport.subscribe(events, group, handler, { maxInFlight: 8 }),
      await transport.subscribe(commands, commands.name, handler, { maxInFlight: 8 }),
    ]
    await transport.publish(events, [event(0)])
    await waitFor('the event before the restart', () => got.has(0))

    const failures: OmnibusError[] = []
    let restarted = false
    const restart = restartEmulator().then(() => (restarted = true))
    for (let n = 1; !restarted; n++) {
      await transport.publish(events, [event(n)]).catch((error: OmnibusError) => void failures.push(error))
      await new Promise((r) => setTimeout(r, 50))
    }
    await restart

    // The emulator forgot everything: a topic nobody re-created is gone.
    expect((await pubsub.topic(untouched).exists())[0]).toBe(false)
    await pubsub.close()
    // While it was down, publishes rejected clearly (never hung, never vanished silently).
    expect(failures.length).toBeGreaterThan(0)
    for (const failure of failures) {
      expect(failure.code).toBe('PUBLISH_FAILED')
      // Refused by Pub/Sub (with its error as cause), or not confirmed within publishTimeoutMs.
      expect(failure.message).toMatch(
        /^\[omnibus\] \[gcp\] .*(not confirmed by Pub\/Sub|did not confirm within)/,
      )
    }

    // Publishing re-creates the topic (the queue also its subscription); the consumers re-open theirs.
    await waitFor(
      'both consumers receiving again',
      () => {
        void transport.publish(events, [event(1000)]).catch(() => undefined)
        void transport.publish(commands, [event(2000)]).catch(() => undefined)
        return got.has(1000) && got.has(2000)
      },
      60_000,
    )
    await Promise.all(subs.map((s) => s.close()))
  })
})

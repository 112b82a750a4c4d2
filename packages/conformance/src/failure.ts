import { type Envelope, MessageTooLargeError } from '@omnibus/core'
import { MALFORMED_TYPE } from '@omnibus/core/adapter'
import { expect } from 'vitest'
import type { Case } from './case.js'
import { chunks, Recorder, range } from './harness.js'

export const failureCases: Case[] = [
  {
    id: 7,
    name: 'retry: fails twice, succeeds on the third attempt; attempts read 1, 2, 3',
    timeoutMs: 60_000,
    async run(h) {
      const type = h.type('retry')
      const attempts: number[] = []
      let done = false
      await h.started(
        'retry',
        (bus) =>
          bus.on(type, async (_e, ctx) => {
            attempts.push(ctx.attempt)
            if (ctx.attempt < 3) throw new Error(`attempt ${ctx.attempt} fails on purpose`)
            done = true
          }),
        { maxAttempts: 5 },
      )
      const producer = await h.started('retry-producer', () => {})
      await producer.publish({ type, data: { please: 'retry me' } })
      await h.until('the third attempt', () => done)
      expect(attempts).toEqual([1, 2, 3])
    },
  },
  {
    id: 8,
    name: 'dead letter: an always-failing message is dead-lettered with its reason; the events behind it keep flowing',
    timeoutMs: 120_000,
    async run(h) {
      const type = h.type('deadletter')
      const good = new Recorder()
      let firstGoodAt = 0
      await h.started(
        'dl',
        (bus) =>
          bus.on<{ poison?: boolean }>(type, async (e) => {
            if (e.data?.poison) throw new Error('poison pill: cannot digest')
            firstGoodAt ||= Date.now()
            good.record(e)
          }),
        { maxAttempts: 3, initialDelayMs: 300, maxDelayMs: 1000 },
      )
      const letters: Envelope[] = []
      let letterAt = 0
      const reader = await h.bus('dl-reader')
      reader.onDeadLetter(type, async (e) => {
        letterAt ||= Date.now()
        letters.push(e)
      })
      await reader.start()
      const producer = await h.started('dl-producer', () => {})
      await producer.publish({ type, id: 'poison', data: { poison: true } })
      const goods = range(20).map((i) => ({ type, id: `good-${i}`, data: { i } }))
      await producer.publish(goods)
      await h.until('the dead letter', () => letters.length > 0, 60_000)
      await h.until('the good events', () => good.has(goods.map((g) => g.id)), 60_000)
      const letter = letters[0]!
      expect(letter.id).toBe('poison')
      expect(letter.type).toBe(type)
      expect(letter.data).toEqual({ poison: true })
      expect(letter.dlreason).toBe('poison pill: cannot digest')
      expect(letter.dlattempts).toBe(3)
      expect(letter.dlchannel).toBe(type)
      expect(typeof letter.dltime).toBe('string')
      // While the poison waited for its retries, the events behind it were handled.
      expect(firstGoodAt).toBeLessThan(letterAt)
    },
  },
  {
    id: 9,
    name: 'malformed input from a foreign producer is dead-lettered with a reason; good events keep flowing',
    timeoutMs: 120_000,
    async run(h) {
      const type = h.type('malformed')
      const good = new Recorder()
      await h.started('mal', (bus) => bus.on(type, good.handler()))
      const letters: Envelope[] = []
      const reader = await h.bus('mal-reader')
      reader.onDeadLetter(type, async (e) => {
        letters.push(e)
      })
      await reader.start()
      const raw = Buffer.concat([Buffer.from('this is not a CloudEvent: '), Buffer.from([0, 1, 0xff, 0xfe])])
      await h.options.injectRaw({ name: type, kind: 'topic' }, raw)
      const producer = await h.started('mal-producer', () => {})
      const goods = range(10).map((i) => ({ type, id: `ok-${i}`, data: { i } }))
      await producer.publish(goods)
      await h.until('good events after the bad bytes', () => good.has(goods.map((g) => g.id)), 60_000)
      await h.until('the malformed dead letter', () => letters.length > 0, 60_000)
      const letter = letters[0]!
      expect(letter.type).toBe(MALFORMED_TYPE)
      expect(typeof letter.dlreason).toBe('string')
      expect((letter.dlreason as string).length).toBeGreaterThan(10)
      expect(letter.dlchannel).toBe(type)
      expect(Buffer.from(letter.data as Uint8Array).equals(raw)).toBe(true)
    },
  },
  {
    id: 10,
    name: 'oversize: a message over maxMessageBytes rejects at publish naming the limit; nothing is sent',
    timeoutMs: 60_000,
    async run(h) {
      const type = h.type('oversize')
      const limit = h.capabilities.maxMessageBytes
      const seen = new Recorder()
      await h.started('big', (bus) => bus.on(type, seen.handler()))
      const producer = await h.started('big-producer', () => {})
      const error = await producer
        .publish({ type, id: 'too-big', data: 'x'.repeat(limit + 1) })
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(MessageTooLargeError)
      expect((error as Error).message).toContain(String(limit))
      await producer.publish({ type, id: 'marker', data: 'small' })
      await h.until('the marker behind it', () => seen.seen.has('marker'))
      expect(seen.seen.has('too-big')).toBe(false)
    },
  },
  {
    id: 11,
    name: 'graceful stop: in-flight handlers finish and are acknowledged; the rest go to the next consumer',
    timeoutMs: 120_000,
    async run(h) {
      const type = h.type('graceful')
      const group = h.group('stop')
      const startedA = new Set<string>()
      const doneA = new Set<string>()
      const a = await h.started(
        'graceful',
        (bus) =>
          bus.on(
            type,
            async (e) => {
              startedA.add(e.id)
              await new Promise((resolve) => setTimeout(resolve, 40))
              doneA.add(e.id)
            },
            { group },
          ),
        { maxInFlight: 4 },
      )
      const producer = await h.started('graceful-producer', () => {})
      const events = range(200).map((i) => ({ type, id: `s-${i}`, data: { i } }))
      await producer.publish(events)
      await h.until('a burst in progress', () => startedA.size >= 10)
      await a.stop()
      // stop() resolved only after every started handler finished.
      expect([...startedA].every((id) => doneA.has(id))).toBe(true)
      const b = new Recorder()
      await h.started('graceful', (bus) => bus.on(type, b.handler(), { group }))
      const ids = events.map((e) => e.id)
      await h.until(
        'the rest, by the next consumer',
        () => ids.every((id) => doneA.has(id) || b.seen.has(id)),
        60_000,
      )
      // What A finished was acknowledged: B does not handle it again.
      const again = [...doneA].filter((id) => b.seen.has(id))
      expect(again).toEqual([])
    },
  },
  {
    id: 12,
    name: 'start/stop churn: consumers come and go while events flow; the union handled is everything',
    timeoutMs: 300_000,
    async run(h) {
      const type = h.type('churn')
      const group = h.group('churn')
      const handled = new Set<string>()
      const consumer = () =>
        h.started('churn', (bus) => bus.on(type, async (e) => void handled.add(e.id), { group }), {
          maxInFlight: 8,
        })
      const producer = await h.started('churn-producer', () => {})
      const events = range(h.sizes.churn).map((i) => ({ type, id: `ch-${i}`, data: { i } }))
      let live = [await consumer(), await consumer()]
      const batches = chunks(events, 100)
      for (const [i, batch] of batches.entries()) {
        await producer.publish(batch)
        if (i % Math.max(1, Math.floor(batches.length / 6)) === 0) {
          // Replace the older consumer by a new one, keeping one running.
          const [old, ...rest] = live
          await old!.stop()
          live = [...rest, await consumer()]
        }
      }
      const ids = events.map((e) => e.id)
      await h.until(
        'everything handled across consumers',
        () => ids.every((id) => handled.has(id)),
        180_000,
        () => `${ids.filter((id) => !handled.has(id)).length} missing`,
      )
    },
  },
  {
    id: 13,
    name: 'broker restart: confirmed publishes are handled, unconfirmed ones reject, the bus recovers',
    timeoutMs: 600_000,
    skip(h) {
      return h.options.restartBroker
        ? undefined
        : `restart: ${h.capabilities.notes?.restart ?? 'no restartBroker hook given for this transport'}`
    },
    async run(h) {
      const type = h.type('restart')
      const handled = new Set<string>()
      await h.started('restart', (bus) => bus.on(type, async (e) => void handled.add(e.id)), {
        maxInFlight: 32,
      })
      const producer = await h.started('restart-producer', () => {})
      const events = range(h.sizes.restart).map((i) => ({ type, id: `r-${i}`, data: { i } }))
      const confirmed: string[] = []
      const rejected: unknown[] = []
      let restart: Promise<void> | undefined
      const batches = chunks(events, 50)
      for (const [i, batch] of batches.entries()) {
        if (i === Math.floor(batches.length / 4)) restart = h.options.restartBroker!()
        try {
          await producer.publish(batch)
          confirmed.push(...batch.map((e) => e.id))
        } catch (error) {
          rejected.push(error)
          // Wait for the broker to be back instead of hammering it.
          await restart
        }
      }
      await restart
      console.info(
        `[conformance ${h.options.name}] case 13: ${confirmed.length} confirmed, ${rejected.length} batches rejected`,
      )
      for (const error of rejected) expect(error).toBeInstanceOf(Error)
      if (h.capabilities.durableAcrossRestart) {
        await h.until(
          'every confirmed event handled',
          () => confirmed.every((id) => handled.has(id)),
          240_000,
          () => `${confirmed.filter((id) => !handled.has(id)).length} of ${confirmed.length} missing`,
        )
      } else {
        // The emulator forgot everything. What must hold: failures were reported (no hang),
        // and the same bus works again once the broker is back, re-provisioning what vanished.
        // Until the consumer has re-provisioned its subscription, probes may be dropped by the
        // broker (a topic without subscriptions keeps nothing), so probe until one comes through.
        const deadline = Date.now() + 180_000 * h.patience
        for (let probe = 0; ; probe++) {
          const id = `probe-${probe}`
          const sent = await producer.publish({ type, id }).then(
            () => true,
            () => false,
          )
          const until = Date.now() + 3000 * h.patience
          while (sent && !handled.has(id) && Date.now() < until) await new Promise((r) => setTimeout(r, 50))
          if (handled.has(id)) break
          if (Date.now() > deadline)
            throw new Error('the bus did not recover within 180 s after the broker restart')
          if (!sent) await new Promise((r) => setTimeout(r, 500))
        }
        const after = range(100).map((i) => ({ type, id: `after-${i}`, data: { i } }))
        await producer.publish(after)
        await h.until(
          'events published after the restart handled',
          () => after.every((e) => handled.has(e.id)),
          180_000,
        )
      }
    },
  },
]

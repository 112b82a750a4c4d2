import { type Envelope, QueryFailedError, QueryTimeoutError } from '@omnibus/core'
import { expect } from 'vitest'
import type { Case } from './case.js'
import { chunks, Recorder, range } from './harness.js'

const TEXT = 'Zażółć gęślą jaźń — 漢字 — 🚀'

function sample(type: string, i: number) {
  const kinds = ['json', 'binary', 'text'] as const
  const kind = kinds[i % 3]!
  const data =
    kind === 'json'
      ? { n: i, text: TEXT, nested: { list: [1, 2.5, null, true], empty: {} } }
      : kind === 'binary'
        ? Uint8Array.from([0, 1, 2, 255, 254, i % 256, 0x7b, 0x22])
        : `${TEXT} #${i}`
  return {
    type,
    source: 'urn:omnibus:conformance/producer',
    id: `rt-${i}-${Math.random().toString(36).slice(2, 8)}`,
    subject: `subject/${i}/ünïcödé`,
    time: new Date(Date.UTC(2026, 10, 26, 12, 0, i % 60, 123)).toISOString(),
    dataschema: `https://schemas.example.com/${kind}/v1`,
    datacontenttype:
      kind === 'json'
        ? 'application/json'
        : kind === 'binary'
          ? 'application/octet-stream'
          : 'text/plain; charset=utf-8',
    data,
    extensions: { tenant: `acme-${i}`, retries: i, urgent: i % 2 === 0, label: TEXT },
  }
}

type Sample = ReturnType<typeof sample>

function sameEvent(got: Envelope, sent: Sample): void {
  expect(got.id).toBe(sent.id)
  expect(got.source).toBe(sent.source)
  expect(got.type).toBe(sent.type)
  expect(got.specversion).toBe('1.0')
  expect(got.subject).toBe(sent.subject)
  expect(Date.parse(got.time!)).toBe(Date.parse(sent.time))
  expect(got.datacontenttype).toBe(sent.datacontenttype)
  expect(got.dataschema).toBe(sent.dataschema)
  expect(got.tenant).toBe(sent.extensions.tenant)
  expect(got.retries).toBe(sent.extensions.retries)
  expect(got.urgent).toBe(sent.extensions.urgent)
  expect(got.label).toBe(sent.extensions.label)
  expect(got.messagekind).toBe('event')
  if (sent.data instanceof Uint8Array) {
    expect(got.data).toBeInstanceOf(Uint8Array)
    expect(Buffer.from(got.data as Uint8Array).equals(Buffer.from(sent.data))).toBe(true)
  } else {
    expect(got.data).toEqual(sent.data)
  }
}

export const deliveryCases: Case[] = [
  {
    id: 1,
    name: 'round trip: events published while the group is stopped arrive after it starts, every attribute intact',
    timeoutMs: 120_000,
    async run(h) {
      const type = h.type('roundtrip')
      const group = h.group('rt')
      const first = await h.started('rt-consumer', (bus) => bus.on(type, async () => {}, { group }))
      await first.stop()
      const producer = await h.started('rt-producer', () => {})
      const sent = range(h.sizes.roundTrip).map((i) => sample(type, i))
      for (const batch of chunks(sent, 10)) await producer.publish(batch)
      const recorder = new Recorder()
      await h.started('rt-consumer', (bus) => bus.on(type, recorder.handler(), { group }))
      const ids = sent.map((s) => s.id)
      await h.until(
        'all round-trip events',
        () => recorder.has(ids),
        60_000,
        () => `${recorder.missing(ids).length} missing`,
      )
      const byId = new Map(recorder.events.map((e) => [e.id, e]))
      for (const s of sent) sameEvent(byId.get(s.id)!, s)
    },
  },
  {
    id: 2,
    name: 'channels are isolated: each consumer sees only its own channel',
    timeoutMs: 60_000,
    async run(h) {
      const [typeA, typeB] = [h.type('iso-a'), h.type('iso-b')]
      const [a, b] = [new Recorder(), new Recorder()]
      await h.started('iso', (bus) => {
        bus.on(typeA, a.handler())
        bus.on(typeB, b.handler())
      })
      const producer = await h.started('iso-producer', () => {})
      const eventsA = range(20).map((i) => ({ type: typeA, id: `a-${i}`, data: { i } }))
      const eventsB = range(20).map((i) => ({ type: typeB, id: `b-${i}`, data: { i } }))
      await producer.publish([...eventsA, ...eventsB])
      await h.until('both channels delivered', () => a.seen.size >= 20 && b.seen.size >= 20)
      expect([...a.seen.keys()].every((id) => id.startsWith('a-'))).toBe(true)
      expect([...b.seen.keys()].every((id) => id.startsWith('b-'))).toBe(true)
      expect(a.events.every((e) => e.type === typeA) && b.events.every((e) => e.type === typeB)).toBe(true)
    },
  },
  {
    id: 3,
    name: 'concurrency: many publishers, many consumers in one group, every event handled',
    timeoutMs: 240_000,
    async run(h) {
      const { publishers, perPublisher, consumers } = h.sizes
      const type = h.type('concurrency')
      const group = h.group('conc')
      const recorder = new Recorder()
      let redelivered = 0
      for (const i of range(consumers)) {
        await h.started(
          `conc-${i}`,
          (bus) =>
            bus.on(
              type,
              async (e, ctx) => {
                if (ctx.deliveryCount > 1) redelivered++
                recorder.record(e)
              },
              { group },
            ),
          { maxInFlight: 8 },
        )
      }
      const ids: string[] = []
      await Promise.all(
        range(publishers).map(async (p) => {
          const producer = await h.started(`conc-pub-${p}`, () => {})
          const events = range(perPublisher).map((i) => ({ type, id: `p${p}-e${i}`, data: { p, i } }))
          ids.push(...events.map((e) => e.id))
          for (const batch of chunks(events, 50)) await producer.publish(batch)
        }),
      )
      await h.until(
        'every event handled',
        () => recorder.has(ids),
        180_000,
        () => `${recorder.missing(ids).length} missing`,
      )
      // Duplicates are allowed only as redeliveries (a rebalance, a lost ack): counted, and bounded.
      console.info(
        `[conformance ${h.options.name}] case 3: ${ids.length} events, ${recorder.duplicates} handled twice, ${redelivered} broker redeliveries`,
      )
      expect(recorder.duplicates).toBeLessThanOrEqual(Math.ceil(ids.length * 0.05))
    },
  },
  {
    id: 4,
    name: 'groups: every group gets every event; members of a group share the load',
    timeoutMs: 120_000,
    async run(h) {
      const type = h.type('groups')
      const groups = [h.group('g1'), h.group('g2')]
      const members = groups.map((group, g) => range(2).map(() => ({ group, g, recorder: new Recorder() })))
      for (const member of members.flat()) {
        // A few milliseconds of work per event, as real handlers have: sharing shows under load.
        const work = () => new Promise<void>((resolve) => setTimeout(resolve, 3))
        await h.started(`groups-${member.g}`, (bus) =>
          bus.on(type, member.recorder.handler(work), { group: member.group }),
        )
      }
      const producer = await h.started('groups-producer', () => {})
      const events = range(h.sizes.groupEvents).map((i) => ({ type, id: `g-${i}`, data: { i } }))
      for (const batch of chunks(events, 10)) await producer.publish(batch)
      const ids = events.map((e) => e.id)
      const union = (g: number) => {
        const all = new Set<string>()
        for (const m of members[g]!) for (const id of m.recorder.seen.keys()) all.add(id)
        return all
      }
      await h.until(
        'both groups got every event',
        () => ids.every((id) => union(0).has(id) && union(1).has(id)),
        60_000,
      )
      // Sharing: every member handles some. A broker may hand a burst to the member whose pull was
      // open first (the Pub/Sub emulator does), so more batches follow, for 30 s at most, while a
      // member has none; a member left out for all of them fails the case.
      const idle = () => members.flat().filter((m) => m.recorder.seen.size === 0)
      const giveUpAt = Date.now() + 30_000
      for (let extra = 0; idle().length > 0 && Date.now() < giveUpAt; extra++) {
        await producer.publish(range(10).map((i) => ({ type, id: `g-extra-${extra}-${i}`, data: { i } })))
        await h.until('a left-out member to get one', () => idle().length === 0, 1_000).catch(() => undefined)
      }
      for (const member of members.flat()) expect(member.recorder.seen.size).toBeGreaterThan(0)
    },
  },
  {
    id: 5,
    name: 'commands: three handler instances, every command handled by exactly one',
    timeoutMs: 120_000,
    async run(h) {
      const type = h.type('command')
      const counts = new Map<string, number>()
      const redelivered = new Set<string>()
      for (const i of range(3)) {
        await h.started(`cmd-${i}`, (bus) =>
          bus.handle(type, async (c, ctx) => {
            counts.set(c.id, (counts.get(c.id) ?? 0) + 1)
            if (ctx.deliveryCount > 1) redelivered.add(c.id)
          }),
        )
      }
      const sender = await h.started('cmd-sender', () => {})
      const commands = range(h.sizes.commands).map((i) => ({ type, id: `c-${i}`, data: { i } }))
      for (const batch of chunks(commands, 10)) await sender.send(batch)
      await h.until('every command handled', () => commands.every((c) => counts.has(c.id)), 60_000)
      // Handled once, unless the broker itself said it delivered the command again
      // (at-least-once: a lost ack, an expired visibility timeout); counted, never silent.
      const twice = [...counts].filter(([, n]) => n > 1).map(([id]) => id)
      if (twice.length)
        console.info(`[conformance ${h.options.name}] case 5: redelivered ${twice.join(', ')}`)
      expect(twice.filter((id) => !redelivered.has(id))).toEqual([])
      expect(twice.length).toBeLessThanOrEqual(Math.ceil(commands.length * 0.05))
    },
  },
  {
    id: 6,
    name: 'queries: concurrent answers correlate; no answer times out; a throwing handler rejects with its message',
    timeoutMs: 120_000,
    async run(h) {
      const type = h.type('query')
      const failing = h.type('query-fails')
      await h.started('stock', (bus) => {
        bus.answer<{ n: number }>(type, async (q) => ({ n: q.data!.n, square: q.data!.n ** 2 }))
        bus.answer(failing, async () => {
          throw new Error('stock service exploded: shelf 7 on fire')
        })
      })
      const asker = await h.started('asker', () => {})
      const answers = await Promise.all(
        range(h.sizes.queries).map((n) =>
          asker.query<unknown, { n: number; square: number }>({ type, data: { n } }),
        ),
      )
      expect(answers).toEqual(range(h.sizes.queries).map((n) => ({ n, square: n * n })))

      const started = Date.now()
      const timeoutMs = 1500
      const unanswered = await asker
        .query({ type: h.type('query-nobody') }, { timeoutMs })
        .catch((e: unknown) => e)
      const elapsed = Date.now() - started
      expect(unanswered).toBeInstanceOf(QueryTimeoutError)
      expect(elapsed).toBeGreaterThanOrEqual(timeoutMs - 50)
      expect(elapsed).toBeLessThan(timeoutMs + 5000 * h.patience)

      const failed = await asker.query({ type: failing, data: {} }).catch((e: unknown) => e)
      expect(failed).toBeInstanceOf(QueryFailedError)
      expect((failed as Error).message).toBe('stock service exploded: shelf 7 on fire')
    },
  },
]

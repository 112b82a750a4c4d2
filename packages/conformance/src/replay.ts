import { expect } from 'vitest'
import type { Case } from './case.js'
import { Recorder, range } from './harness.js'

export const replayCases: Case[] = [
  {
    id: 17,
    name: 'replay: a new group started from the beginning or from a time receives older events',
    timeoutMs: 120_000,
    skip: (h) =>
      h.capabilities.replay ? undefined : `replay: ${h.capabilities.notes?.replay ?? 'not supported'}`,
    async run(h) {
      const type = h.type('replay')
      const producer = await h.started('replay-producer', () => {})
      const early = range(10).map((i) => ({ type, id: `early-${i}`, data: { i } }))
      const late = range(10).map((i) => ({ type, id: `late-${i}`, data: { i } }))
      await producer.publish(early)
      // A clear gap between the two batches, so a time between them is unambiguous.
      await new Promise((resolve) => setTimeout(resolve, 1100))
      const between = new Date()
      await new Promise((resolve) => setTimeout(resolve, 1100))
      await producer.publish(late)

      const all = new Recorder()
      await h.started('replayer', (bus) =>
        bus.on(type, all.handler(), { group: h.group('from-start'), from: 'earliest' }),
      )
      const since = new Recorder()
      await h.started('replayer', (bus) =>
        bus.on(type, since.handler(), { group: h.group('from-time'), from: { time: between } }),
      )
      const ids = [...early, ...late].map((e) => e.id)
      await h.until('the earliest group to replay everything', () => all.has(ids), 60_000)
      await h.until(
        'the time group to replay the later events',
        () => since.has(late.map((e) => e.id)),
        60_000,
      )
      expect(early.some((e) => since.seen.has(e.id))).toBe(false)
    },
  },
]

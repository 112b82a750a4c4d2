import { idempotency } from '@omnibus/core'
import { expect } from 'vitest'
import type { Case } from './case.js'
import { range } from './harness.js'

export const orderCases: Case[] = [
  {
    id: 14,
    name: 'per-key order: keys interleaved, several consumers in one group, order holds within each key',
    timeoutMs: 240_000,
    skip: (h) =>
      h.capabilities.ordering || h.capabilities.orderedChannel?.(h.type('order'))
        ? undefined
        : `ordering: ${h.capabilities.notes?.ordering ?? 'not supported'}`,
    async run(h) {
      const { keys, perKey } = h.sizes
      const type = h.type('order')
      const group = h.group('order')
      const seen = new Map<string, number[]>()
      for (const i of range(3)) {
        await h.started(
          `order-${i}`,
          (bus) =>
            bus.on<{ key: string; n: number }>(
              type,
              async (e) => {
                // Some work of varying length first: if two events of one key ever ran at
                // once, they would finish, and be recorded, out of order.
                await new Promise((resolve) => setTimeout(resolve, Math.random() * 4))
                const list = seen.get(e.data!.key) ?? []
                list.push(e.data!.n)
                seen.set(e.data!.key, list)
              },
              { group },
            ),
          { maxInFlight: 16 },
        )
      }
      const producer = await h.started('order-producer', () => {})
      for (const n of range(perKey)) {
        // One round: the n-th event of every key, published together; rounds in sequence.
        await producer.publish(
          range(keys).map((k) => ({
            type,
            partitionkey: `key-${k}`,
            id: `k${k}-n${n}`,
            data: { key: `key-${k}`, n },
          })),
        )
      }
      const complete = () => range(keys).every((k) => new Set(seen.get(`key-${k}`) ?? []).size === perKey)
      await h.until('every event of every key', complete, 180_000)
      for (const k of range(keys)) {
        // Redelivery may repeat a stretch; the first time each event is seen must be in order.
        const firsts = [...new Set(seen.get(`key-${k}`))]
        expect(firsts, `order of key-${k}`).toEqual(range(perKey))
      }
    },
  },
  {
    id: 15,
    name: 'flow control: never more than maxInFlight handlers at once',
    timeoutMs: 120_000,
    async run(h) {
      const type = h.type('flow')
      const limit = 3
      let running = 0
      let peak = 0
      let handled = 0
      await h.started('flow', (bus) =>
        bus.on(
          type,
          async () => {
            running++
            peak = Math.max(peak, running)
            await new Promise((resolve) => setTimeout(resolve, 10))
            running--
            handled++
          },
          { maxInFlight: limit },
        ),
      )
      const producer = await h.started('flow-producer', () => {})
      await producer.publish(range(100).map((i) => ({ type, data: { i } })))
      // At least: a broker may hand an event out again (a lease or visibility timeout on a loaded
      // machine), and a count that skips past 100 between two looks would never equal it.
      await h.until('all 100 handled', () => handled >= 100, 60_000)
      expect(peak).toBeLessThanOrEqual(limit)
      expect(peak).toBeGreaterThan(0)
    },
  },
  {
    id: 16,
    name: 'idempotency: the same event delivered twice is handled once',
    timeoutMs: 60_000,
    async run(h) {
      const type = h.type('idem')
      const calls = new Map<string, number>()
      const bus = await h.bus('idem')
      bus.use(idempotency())
      bus.on(type, async (e) => {
        calls.set(e.id, (calls.get(e.id) ?? 0) + 1)
      })
      await bus.start()
      const producer = await h.started('idem-producer', () => {})
      const twice = { type, id: 'same-id', source: 'urn:test:idem', data: { n: 1 } }
      await producer.publish(twice)
      await producer.publish(twice)
      await producer.publish({ type, id: 'marker', source: 'urn:test:idem' })
      await h.until('the marker after both copies', () => calls.has('marker'))
      await h.until('both copies delivered', () => bus.stats().handled + bus.stats().skipped >= 2)
      expect(calls.get('same-id')).toBe(1)
    },
  },
]

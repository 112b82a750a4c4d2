import { defineEvent, type Envelope, SchemaError } from '@omnibus/core'
import type { Schema } from '@omnibus/core/catalog'
import { expect } from 'vitest'
import type { Case } from './case.js'
import { range } from './harness.js'

interface Reading {
  reading: number
}

/**
 * A Standard Schema written out by hand (the spec is small enough), so that the
 * suite depends on no schema library: a `reading` that is a finite number.
 */
const reading: Schema & { readonly '~standard': { readonly types?: { input: Reading; output: Reading } } } = {
  '~standard': {
    version: 1,
    vendor: 'omnibus-conformance',
    validate(value) {
      const n = (value as Partial<Reading> | null)?.reading
      return typeof n === 'number' && Number.isFinite(n)
        ? { value: { reading: n } }
        : { issues: [{ message: `expected a finite number, got ${JSON.stringify(n)}`, path: ['reading'] }] }
    },
  },
}

export const schemaCases: Case[] = [
  {
    id: 20,
    name: 'schema: invalid data is refused at send and dead-lettered at once at receive; valid data flows',
    timeoutMs: 120_000,
    async run(h) {
      const Measured = defineEvent({ type: h.type('schema'), data: reading })
      const handled: number[] = []
      // Retries would show: five attempts, a second apart, before a dead letter.
      const consumer = await h.started(
        'schema',
        (bus) => bus.on(Measured, (e) => void handled.push(e.data.reading)),
        { maxAttempts: 5, initialDelayMs: 1000, maxDelayMs: 1000 },
      )
      const letters: Envelope[] = []
      const reader = await h.bus('schema-reader')
      reader.onDeadLetter(Measured.type, async (e) => void letters.push(e))
      await reader.start()
      const producer = await h.started('schema-producer', () => {})

      const refused = await producer
        .publish(Measured, { reading: 'high' as unknown as number })
        .catch((error: unknown) => error)
      expect(refused).toBeInstanceOf(SchemaError)
      expect(refused).toMatchObject({ code: 'SCHEMA_INVALID', field: 'data.reading' })

      // A sender without the catalog can still put anything on the wire.
      await producer.publish({ type: Measured.type, id: 'bad', data: { reading: 'high' } })
      for (const i of range(5)) await producer.publish(Measured, { reading: i })
      await h.until(
        'five valid readings handled and one dead letter',
        () => handled.length >= 5 && letters.length >= 1,
        60_000,
        () => `handled ${handled.length}, dead letters ${letters.length}`,
      )
      expect([...new Set(handled)].sort()).toEqual([0, 1, 2, 3, 4])
      expect(letters.map((l) => l.id)).toEqual(['bad'])
      expect(letters[0]).toMatchObject({ dlattempts: 1, data: { reading: 'high' } })
      expect(String(letters[0]!.dlreason)).toContain('data.reading')
      expect(consumer.stats().retried).toBe(0)
    },
  },
]

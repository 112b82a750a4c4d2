/** @omnibus/conformance: the one suite every Omnibus transport passes, against its real broker. */
import { mkdirSync, writeFileSync } from 'node:fs'
import { afterAll, afterEach, describe, test } from 'vitest'
import type { Case } from './case.js'
import { deliveryCases } from './delivery.js'
import { failureCases } from './failure.js'
import { Harness } from './harness.js'
import type { ConformanceOptions } from './options.js'
import { orderCases } from './order.js'
import { replayCases } from './replay.js'
import { schemaCases } from './schema.js'
import { settleCases } from './settle.js'
import { transportCases } from './transport.js'

export { failoverCounts, type KeyedPublishing, keyedPublisher, report, type Seen } from './failover.js'
export type { Sizes } from './harness.js'
export { brokers, collector, restartBroker } from './helpers.js'
export type { ConformanceOptions } from './options.js'
export { auditing, capturingLogger, expectDenied, expectSealed, LeakWatch } from './security.js'
export { uniq, waitFor } from './wait.js'

/** Every case of CONFORMANCE.md, in its order. */
export const cases: readonly Case[] = [
  ...deliveryCases,
  ...failureCases,
  ...orderCases,
  ...replayCases,
  ...schemaCases,
  ...transportCases,
  ...settleCases,
]

/**
 * Defines the conformance cases for one transport as vitest tests, one per
 * case. Cases the transport's capabilities rule out are skipped by name, with
 * the reason in the test's title. Ends with a report line:
 * `conformance <name>: N cases, N passed, N failed, N skipped (reasons)`, also
 * written to `.results/conformance-<name>.txt` under the working directory.
 */
export function conformance(options: ConformanceOptions): void {
  const h = new Harness(options)
  const results: { id: number; outcome: 'passed' | 'failed' | 'skipped'; reason?: string }[] = []

  describe(`conformance ${options.name}`, () => {
    afterEach(() => h.cleanup())

    for (const c of cases) {
      const reason = c.skip?.(h)
      const title = `case ${c.id}: ${c.name}`
      if (reason !== undefined) {
        results.push({ id: c.id, outcome: 'skipped', reason })
        test.skipIf(true)(`${title} [skipped: ${reason}]`, () => {})
        continue
      }
      test(
        title,
        async () => {
          try {
            await c.run(h)
            results.push({ id: c.id, outcome: 'passed' })
          } catch (error) {
            results.push({ id: c.id, outcome: 'failed' })
            throw error
          }
        },
        c.timeoutMs * h.patience,
      )
    }

    afterAll(() => {
      const count = (o: string) => results.filter((r) => r.outcome === o).length
      const reasons = results.filter((r) => r.reason).map((r) => r.reason)
      const line =
        `conformance ${options.name}: ${cases.length} cases, ${count('passed')} passed, ${count('failed')} failed, ` +
        `${count('skipped')} skipped${reasons.length ? ` (${reasons.join('; ')})` : ''}`
      console.info(line)
      mkdirSync('.results', { recursive: true })
      writeFileSync(`.results/conformance-${options.name}.txt`, `${line}\n`)
    })
  })
}

/**
 * Defines one case as a vitest test, for an adapter's own tests to run it again under settings
 * the suite's run does not use (e.g. long polling), without the report line.
 */
export function conformanceCase(options: ConformanceOptions, id: number, label = ''): void {
  const c = cases.find((x) => x.id === id)
  if (!c) throw new Error(`no conformance case ${id}`)
  const h = new Harness(options)
  afterEach(() => h.cleanup())
  test(
    `${options.name} case ${c.id}${label ? ` (${label})` : ''}: ${c.name}`,
    () => c.run(h),
    c.timeoutMs * h.patience,
  )
}

import type { Logger } from '@omnibus/core'
import type { MessagingSource } from '@omnibus/core/adapter'
import type { Meter, ObservableResult } from '@opentelemetry/api'
import { A, M, systemOf } from './semconv.js'

/**
 * One observable gauge, `omnibus.consumer.backlog`: per subscribed group, the
 * messages not yet consumed, read from the broker at each collection. A transport
 * that cannot tell (no `backlog`, or undefined now) reports nothing for that group:
 * absent, never a made-up zero.
 */
export class Backlog {
  private readonly groups = new Map<string, { source: MessagingSource; holders: number }>()

  constructor(
    meter: Meter,
    private readonly logger: () => Logger | undefined,
  ) {
    meter
      .createObservableGauge(M.backlog, {
        unit: '{message}',
        description: 'Messages waiting for a consumer group (not yet consumed or not yet settled)',
      })
      .addCallback((result) => this.observe(result))
  }

  /** Watches `source`'s group until the returned function is called. */
  watch(source: MessagingSource): (() => void) | undefined {
    if (!source.backlog) return undefined
    const key = `${source.transport}\u0000${source.channel.name}\u0000${source.group}`
    const entry = this.groups.get(key) ?? { source, holders: 0 }
    entry.holders++
    this.groups.set(key, entry)
    let done = false
    return () => {
      if (done) return
      done = true
      if (--entry.holders === 0) this.groups.delete(key)
    }
  }

  private async observe(result: ObservableResult): Promise<void> {
    await Promise.all(
      [...this.groups.values()].map(async ({ source }) => {
        let value: number | undefined
        try {
          value = await source.backlog!()
        } catch (error) {
          this.logger()?.debug('backlog could not be read; left out of this collection', {
            transport: source.transport,
            channel: source.channel.name,
            group: source.group,
            error: String(error),
          })
          return
        }
        if (value === undefined) return
        result.observe(value, {
          [A.system]: systemOf(source.system, source.channel.kind === 'topic', true),
          [A.destination]: source.channel.name,
          [A.group]: source.group,
          [A.transport]: source.transport,
        })
      }),
    )
  }
}

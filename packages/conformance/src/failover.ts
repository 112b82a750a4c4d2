import { mkdirSync, writeFileSync } from 'node:fs'
import type { Envelope } from '@omnibus/core'
import { createEvent } from '@omnibus/core/adapter'

/** A delivery a kill test saw: the event's id, its partition key, and its place in the publish order. */
export interface Seen {
  readonly id: string
  readonly key: string
  readonly seq: number
}

/**
 * What a kill test counts of its deliveries against what the broker confirmed (`confirmed`: id ->
 * seq): `lost`, confirmed events never delivered; `duplicates`, deliveries beyond an event's first
 * (at-least-once); `outOfOrder`, first deliveries of confirmed events that came after a later-published
 * one of the same key.
 */
export function failoverCounts(
  seen: readonly Seen[],
  confirmed: ReadonlyMap<string, number>,
): { lost: number; duplicates: number; outOfOrder: number } {
  const ids = new Set(seen.map((s) => s.id))
  const last = new Map<string, number>()
  const first = new Set<string>()
  let outOfOrder = 0
  for (const s of seen) {
    if (first.has(s.id) || !confirmed.has(s.id)) continue
    first.add(s.id)
    if ((last.get(s.key) ?? -1) > s.seq) outOfOrder++
    last.set(s.key, s.seq)
  }
  const lost = [...confirmed.keys()].filter((id) => !ids.has(id)).length
  return { lost, duplicates: seen.length - ids.size, outOfOrder }
}

/** What a kill test measured, printed and written to .results/<name>.txt for the issue's note; returns the line. */
export function report(name: string, counts: Record<string, number | string>): string {
  const line = `${name}: ${Object.entries(counts)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}`
  console.log(line)
  mkdirSync('.results', { recursive: true })
  writeFileSync(`.results/${name}.txt`, `${line}\n`)
  return line
}

/** What a kill test's publisher recorded so far (see `keyedPublisher`). */
export interface KeyedPublishing {
  /** Confirmed events: id -> seq. */
  readonly confirmed: Map<string, number>
  /** When each confirm came (ms since the epoch), in order. */
  readonly confirmedAt: number[]
  /** Each rejected publish's reason, and when it came. */
  readonly rejected: unknown[]
  readonly rejectedAt: number[]
  /** How many events were handed to `publish` so far. */
  readonly published: number
  /** Settles once every batch settled, or after stop(). Never rejects. */
  readonly done: Promise<void>
  /** Lets a publisher held at `holdAt` go on. */
  release(): void
  /** No batch after the one under way. */
  stop(): void
}

/**
 * A kill test's publisher: `total` events of `type`, keyed `k<seq % keys>` with `data: { seq }`, sent
 * as batches of `batch` single-event publishes at once, each batch settled before the next, so that a
 * kill lands mid-stream; confirms and rejections are recorded as they come (for `failoverCounts`).
 * With `holdAt`, the batch starting at that seq waits for release() (say, until the killed node is
 * being started again, so that the rest goes out while it rejoins).
 */
export function keyedPublisher(
  publish: (event: Envelope) => Promise<unknown>,
  options: { total: number; keys: number; batch?: number; holdAt?: number; type?: string },
): KeyedPublishing {
  const { total, keys, batch = 100, holdAt, type = 'com.test.failover' } = options
  let release!: () => void
  const released = new Promise<void>((resolve) => {
    release = resolve
  })
  let published = 0
  let stopped = false
  const state = {
    confirmed: new Map<string, number>(),
    confirmedAt: [] as number[],
    rejected: [] as unknown[],
    rejectedAt: [] as number[],
  }
  const run = async () => {
    while (published < total && !stopped) {
      if (published === holdAt) await released
      if (stopped) return
      const events = Array.from({ length: Math.min(batch, total - published) }, (_, j) => {
        const seq = published + j
        return createEvent({
          type,
          source: 'urn:omnibus:failover',
          partitionkey: `k${seq % keys}`,
          data: { seq },
        })
      })
      published += events.length
      const results = await Promise.allSettled(events.map((e) => publish(e)))
      results.forEach((r, j) => {
        if (r.status === 'fulfilled') {
          state.confirmed.set(events[j]!.id, (events[j]!.data as { seq: number }).seq)
          state.confirmedAt.push(Date.now())
        } else {
          state.rejected.push(r.reason)
          state.rejectedAt.push(Date.now())
        }
      })
    }
  }
  const done = run().catch(() => undefined)
  return {
    ...state,
    get published() {
      return published
    },
    done,
    release,
    stop() {
      stopped = true
      release()
    },
  }
}

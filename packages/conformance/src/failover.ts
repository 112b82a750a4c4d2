import { mkdirSync, writeFileSync } from 'node:fs'

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

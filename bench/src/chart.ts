/** Omnibus/raw throughput ratios of one transport: against raw sending the same bytes, and the data alone. */
export interface Ratios {
  name: string
  publish: number
  e2e: number
  dataOnly?: { publish: number; e2e: number }
}

const BAR = 30
const THROUGHPUT = [
  ['#4c78a8', 'publish'],
  ['#f58518', 'end to end'],
] as const
const GROUP = 4 * (BAR + 4) + 40

/** A small SVG bar chart of the ratios per transport, with the 0.9 target line. */
export function chart(ratios: readonly Ratios[]): string {
  const width = 120 + ratios.length * GROUP
  const height = 320
  const top = 40
  const bottom = 250
  const values = ratios.flatMap((r) => [r.publish, r.e2e, r.dataOnly?.publish ?? 0, r.dataOnly?.e2e ?? 0])
  const max = Math.max(1.2, ...values)
  const y = (v: number) => bottom - (v / max) * (bottom - top)
  const bars = ratios
    .map((r, i) => {
      const x = 80 + i * GROUP
      const bar = (v: number | undefined, slot: number, color: string) =>
        v === undefined
          ? ''
          : `<rect x="${x + slot * (BAR + 4)}" y="${y(v).toFixed(1)}" width="${BAR}" height="${(bottom - y(v)).toFixed(1)}" fill="${color}"/>` +
            `<text x="${x + slot * (BAR + 4) + BAR / 2}" y="${(y(v) - 4).toFixed(1)}" text-anchor="middle" font-size="10">${v.toFixed(2)}</text>`
      return (
        bar(r.publish, 0, '#4c78a8') +
        bar(r.e2e, 1, '#f58518') +
        bar(r.dataOnly?.publish, 2, '#9ecae9') +
        bar(r.dataOnly?.e2e, 3, '#ffbf79') +
        `<text x="${x + 2 * (BAR + 4)}" y="${bottom + 18}" text-anchor="middle" font-size="13">${r.name}</text>`
      )
    })
    .join('')
  const dataOnly = [
    ['#9ecae9', 'publish, raw sends data only'],
    ['#ffbf79', 'end to end, raw sends data only'],
  ] as const
  const legend = legendOf([...THROUGHPUT, ...dataOnly], height - 42, 230)
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.max(width, 480)}" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${Math.max(width, 480) / 2}" y="20" text-anchor="middle" font-size="14">Omnibus throughput / raw client throughput (higher is better)</text>
<line x1="60" y1="${y(0.9)}" x2="${width - 20}" y2="${y(0.9)}" stroke="#c00" stroke-dasharray="4 3"/>
<text x="${width - 22}" y="${y(0.9) - 4}" text-anchor="end" font-size="11" fill="#c00">target 0.90</text>
<line x1="60" y1="${y(1)}" x2="${width - 20}" y2="${y(1)}" stroke="#999"/>
<line x1="60" y1="${bottom}" x2="${width - 20}" y2="${bottom}" stroke="#333"/>
${bars}
${legend}
</svg>
`
}

/** Omnibus / peer throughput on one broker (above 1: Omnibus ahead). */
export interface PeerRatio {
  name: string
  peer: string
  publish: number
  e2e: number
  /** Omnibus's mode where it is not the default (structured): a third line under the bars. */
  mode?: string
}

const PEER_GROUP = 2 * (BAR + 4) + 60

/** Omnibus's throughput over each peer's on the same broker, publish and end to end, with the 1.0 line. */
export function peerChart(ratios: readonly PeerRatio[]): string {
  const width = Math.max(760, 100 + ratios.length * PEER_GROUP)
  const height = 320
  const top = 40
  const bottom = 240
  const max = Math.max(1.2, ...ratios.flatMap((r) => [r.publish, r.e2e]))
  const y = (v: number) => bottom - (v / max) * (bottom - top)
  const bars = ratios
    .map((r, i) => {
      const x = 80 + i * PEER_GROUP
      const bar = (v: number, slot: number, color: string) =>
        `<rect x="${x + slot * (BAR + 4)}" y="${y(v).toFixed(1)}" width="${BAR}" height="${(bottom - y(v)).toFixed(1)}" fill="${color}"/>` +
        `<text x="${x + slot * (BAR + 4) + BAR / 2}" y="${(y(v) - 4).toFixed(1)}" text-anchor="middle" font-size="10">${v.toFixed(2)}</text>`
      const mid = x + BAR + 2
      return (
        bar(r.publish, 0, '#4c78a8') +
        bar(r.e2e, 1, '#f58518') +
        `<text x="${mid}" y="${bottom + 16}" text-anchor="middle" font-size="12">${r.name}</text>` +
        `<text x="${mid}" y="${bottom + 30}" text-anchor="middle" font-size="10">${r.peer}</text>` +
        (r.mode
          ? `<text x="${mid}" y="${bottom + 43}" text-anchor="middle" font-size="10">Omnibus ${r.mode}</text>`
          : '')
      )
    })
    .join('')
  const legend = legendOf(THROUGHPUT, height - 30, 120)
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">Omnibus throughput / peer library throughput, same broker (above 1: Omnibus ahead)</text>
<line x1="60" y1="${y(1)}" x2="${width - 20}" y2="${y(1)}" stroke="#c00" stroke-dasharray="4 3"/>
<line x1="60" y1="${bottom}" x2="${width - 20}" y2="${bottom}" stroke="#333"/>
${bars}
${legend}
</svg>
`
}

/** Coloured squares with labels, two to a row. */
function legendOf(entries: readonly (readonly [string, string])[], top: number, column: number): string {
  return entries
    .map(
      ([color, label], i) =>
        `<rect x="${20 + (i % 2) * column}" y="${top + Math.floor(i / 2) * 20}" width="12" height="12" fill="${color}"/>` +
        `<text x="${38 + (i % 2) * column}" y="${top + 10 + Math.floor(i / 2) * 20}" font-size="12">${label}</text>`,
    )
    .join('')
}

/** A small SVG bar chart of Omnibus/raw throughput ratios per transport, with the 0.9 target line. */
export function chart(ratios: readonly { name: string; publish: number; e2e: number }[]): string {
  const width = 120 + ratios.length * 140
  const height = 300
  const top = 40
  const bottom = 250
  const max = Math.max(1.2, ...ratios.flatMap((r) => [r.publish, r.e2e]))
  const y = (v: number) => bottom - (v / max) * (bottom - top)
  const bars = ratios
    .map((r, i) => {
      const x = 80 + i * 140
      const bar = (v: number, dx: number, color: string) =>
        `<rect x="${x + dx}" y="${y(v).toFixed(1)}" width="40" height="${(bottom - y(v)).toFixed(1)}" fill="${color}"/>` +
        `<text x="${x + dx + 20}" y="${(y(v) - 4).toFixed(1)}" text-anchor="middle" font-size="11">${v.toFixed(2)}</text>`
      return (
        bar(r.publish, 0, '#4c78a8') +
        bar(r.e2e, 45, '#f58518') +
        `<text x="${x + 42}" y="${bottom + 18}" text-anchor="middle" font-size="13">${r.name}</text>`
      )
    })
    .join('')
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">Omnibus throughput / raw client throughput (higher is better)</text>
<line x1="60" y1="${y(0.9)}" x2="${width - 20}" y2="${y(0.9)}" stroke="#c00" stroke-dasharray="4 3"/>
<text x="${width - 22}" y="${y(0.9) - 4}" text-anchor="end" font-size="11" fill="#c00">target 0.90</text>
<line x1="60" y1="${y(1)}" x2="${width - 20}" y2="${y(1)}" stroke="#999"/>
<line x1="60" y1="${bottom}" x2="${width - 20}" y2="${bottom}" stroke="#333"/>
${bars}
<rect x="70" y="${height - 22}" width="12" height="12" fill="#4c78a8"/><text x="88" y="${height - 12}" font-size="12">publish</text>
<rect x="160" y="${height - 22}" width="12" height="12" fill="#f58518"/><text x="178" y="${height - 12}" font-size="12">end to end</text>
</svg>
`
}

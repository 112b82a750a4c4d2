import { mkdirSync, writeFileSync } from 'node:fs'

/** What a kill test measured, printed and written to .results/<name>.txt for the issue's note. */
export function report(name: string, counts: Record<string, number>): void {
  const line = `${name}: ${Object.entries(counts)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')}`
  console.log(line)
  mkdirSync('.results', { recursive: true })
  writeFileSync(`.results/${name}.txt`, `${line}\n`)
}

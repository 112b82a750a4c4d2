// node packages/opentelemetry/bench/run.mjs [memory] [kafka]  (ROUNDS=5 EVENTS=20000)
// End-to-end events/s with no instrumentation, with it but no SDK, and with the SDK tracing at
// 100 % sampling: modes alternate round by round, each run in a fresh process; medians and ratios.
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const transports = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['memory', 'kafka']
const rounds = Number(process.env.ROUNDS ?? 5)
const events = process.env.EVENTS ?? '20000'
const one = fileURLToPath(new URL('./one.mjs', import.meta.url))
const modes = ['none', 'api', 'sdk']
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

for (const transport of transports) {
  const results = Object.fromEntries(modes.map((m) => [m, []]))
  for (let round = 0; round < rounds; round++) {
    // Rotate the order so that no mode always runs first (warm broker, page cache).
    for (const mode of [...modes.slice(round % 3), ...modes.slice(0, round % 3)]) {
      const out = execFileSync('node', [one, transport, mode, events], { encoding: 'utf8' })
      results[mode].push(JSON.parse(out.trim().split('\n').at(-1)).eventsPerSecond)
    }
  }
  const base = median(results.none)
  for (const mode of modes) {
    const m = median(results[mode])
    const label = { none: 'no instrumentation', api: 'API, no SDK', sdk: 'SDK, 100% sampled' }[mode]
    console.log(
      `${transport.padEnd(7)} ${label.padEnd(20)} ${Math.round(m).toString().padStart(7)} events/s  ${(m / base).toFixed(3)}×  (rounds: ${results[mode].map(Math.round).join(', ')})`,
    )
  }
}

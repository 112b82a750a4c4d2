// node packages/opentelemetry/bench/run.mjs [memory] [kafka]  (ROUNDS=5 EVENTS=20000)
// End-to-end events/s with no instrumentation, with it but no SDK, and with the SDK tracing at
// 100 % sampling: modes alternate round by round, each run in a fresh process; medians and ratios,
// of events/s and of the process's CPU time per event (steadier while others use the machine).
import { execFileSync } from 'node:child_process'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'

const transports = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['memory', 'kafka']
const rounds = Number(process.env.ROUNDS ?? 5)
const events = process.env.EVENTS ?? '20000'
const modes = (process.env.MODES ?? 'none,api,sdk').split(',')
const one = fileURLToPath(new URL('./one.mjs', import.meta.url))
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')

console.log(`${new Date().toISOString()} load ${load()}; ${rounds} rounds × ${events} events`)
for (const transport of transports) {
  const runs = Object.fromEntries(modes.map((m) => [m, []]))
  for (let round = 0; round < rounds; round++) {
    // Rotate the order so that no mode always runs first (warm broker, page cache).
    const order = [...modes.slice(round % modes.length), ...modes.slice(0, round % modes.length)]
    for (const mode of order) {
      const out = execFileSync('node', [one, transport, mode, events], { encoding: 'utf8' })
      runs[mode].push(JSON.parse(out.trim().split('\n').at(-1)))
    }
  }
  const base = median(runs[modes[0]].map((r) => r.eventsPerSecond))
  const baseCpu = median(runs[modes[0]].map((r) => r.cpuMicrosPerEvent))
  for (const mode of modes) {
    const rate = runs[mode].map((r) => r.eventsPerSecond)
    const cpu = runs[mode].map((r) => r.cpuMicrosPerEvent)
    const dropped = runs[mode].reduce((n, r) => n + (r.spansDropped ?? 0), 0)
    const label = { none: 'no instrumentation', api: 'API, no SDK', sdk: 'SDK, 100% sampled' }[mode] ?? mode
    console.log(
      `${transport.padEnd(7)} ${label.padEnd(20)} ${Math.round(median(rate)).toString().padStart(7)} events/s ${(median(rate) / base).toFixed(3)}×` +
        `  ${median(cpu).toFixed(1).padStart(5)} µs CPU/event ${(baseCpu / median(cpu)).toFixed(3)}×` +
        `  (rounds: ${rate.map(Math.round).join(', ')}; CPU ${cpu.map((c) => c.toFixed(1)).join(', ')})` +
        (dropped > 0 ? `  ${dropped} spans dropped` : ''),
    )
  }
}
console.log(`${new Date().toISOString()} load ${load()}`)

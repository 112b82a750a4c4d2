// npm run bench -- [transport...]: Omnibus against each broker's own client, side by side.
// Each round runs the Omnibus side and the raw sides in fresh processes, one after
// the other (A B A B …), so machine noise hits both alike; medians are reported.
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { chart, type PeerRatio, peerChart, type Ratios } from './chart.js'
import type { BenchTarget, Peer } from './target.js'
import type { SideResult } from './worker.js'

const run = promisify(execFile)
const here = dirname(fileURLToPath(import.meta.url))
const resultsDir = join(here, '..', 'results')
// Every file in targets/ is a transport to measure; memory first, as the baseline for the rest.
const ALL = readdirSync(join(here, 'targets'))
  .filter((f) => f.endsWith('.js'))
  .map((f) => f.slice(0, -3))
  .sort((a, b) => Number(b === 'memory') - Number(a === 'memory') || a.localeCompare(b))
const ROUNDS = Number(process.env.OMNIBUS_BENCH_ROUNDS ?? 5)
const COUNT = Number(process.env.OMNIBUS_BENCH_COUNT ?? 20_000)

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

async function side(target: string, which: string, count = COUNT, e2e = count): Promise<SideResult> {
  const args = [join(here, 'worker.js'), target, which, String(count), String(e2e)]
  const { stdout } = await run(process.execPath, args, {
    maxBuffer: 1 << 20,
    timeout: 900_000,
  })
  return JSON.parse(stdout.trim().split('\n').pop()!) as SideResult
}

function summarise(results: SideResult[]) {
  const pick = (k: keyof SideResult) => median(results.map((r) => r[k] ?? 0))
  const range = (k: keyof SideResult) => {
    const xs = results.map((r) => r[k] ?? 0)
    return [Math.min(...xs), Math.max(...xs)]
  }
  return {
    spread: { publishPerSec: range('publishPerSec'), e2ePerSec: range('e2ePerSec'), p99Ms: range('p99Ms') },
    publishPerSec: pick('publishPerSec'),
    e2ePerSec: pick('e2ePerSec'),
    e2ePerCpuSec: pick('e2ePerCpuSec'),
    steadyE2ePerSec: pick('steadyE2ePerSec'),
    steadyE2ePerCpuSec: pick('steadyE2ePerCpuSec'),
    p50Ms: pick('p50Ms'),
    p99Ms: pick('p99Ms'),
    pacedConfirmP50Ms: pick('pacedConfirmP50Ms'),
    saturatedP50Ms: pick('saturatedP50Ms'),
    saturatedP99Ms: pick('saturatedP99Ms'),
    maxRssMb: pick('maxRssMb'),
  }
}

const LABELS: Record<string, string> = {
  omnibus: 'omnibus',
  raw: 'raw, same bytes',
  'raw-data': 'raw, data only',
  'omnibus-structured': 'omnibus, structured mode',
  'omnibus-prefetch256': 'omnibus, maxInFlight 256 (prefetch 256)',
  'omnibus-structured-prefetch256': 'omnibus, structured mode, maxInFlight 256',
  mqt: 'message-queue-toolkit',
  nest: 'NestJS microservices',
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })

const wanted = process.argv.slice(2).length ? process.argv.slice(2) : ALL
const report: Record<string, unknown> = {
  date: new Date().toISOString(),
  machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
  rounds: ROUNDS,
  events: COUNT,
  transports: {},
}
const rows: string[][] = [
  ['transport', 'side', 'publish/s', 'e2e/s', 'paced p50 ms', 'paced p99 ms', 'peak RSS MB'],
]
const notes: string[] = []

for (const name of wanted) {
  if (!ALL.includes(name)) {
    console.error(`unknown transport "${name}"; one of ${ALL.join(', ')}`)
    process.exit(2)
  }
  const target = (await import(`./targets/${name}.js`).then(
    (m: Record<string, BenchTarget>) => m[name] ?? m.default,
  ))!
  const reason = await target.unavailable?.()
  if (reason) {
    console.log(`${name}: left out (${reason})`)
    continue
  }
  // A broker whose cost per message grows with queue depth (moto) consumes fewer events per round.
  const e2eCount = target.e2eEvents ?? COUNT
  const publishCount = target.publishEvents ?? COUNT
  const sides = [
    'omnibus',
    ...Object.keys(target.variants ?? {}),
    ...(target.raw ? ['raw', 'raw-data'] : []),
    ...(target.baselines ?? []).map((b) => b.side),
    ...(process.env.OMNIBUS_BENCH_PEERS === '0' ? [] : (target.peers ?? [])),
  ]
  const label = (s: string) =>
    target.baselines?.find((b) => b.side === s)?.label ??
    (target.rawClient && s.startsWith('raw')
      ? `raw ${target.rawClient}, ${LABELS[s]!.slice(5)}`
      : (LABELS[s] ?? s))
  const results: Record<string, SideResult[]> = Object.fromEntries(sides.map((s) => [s, []]))
  let failure: string | undefined
  const retried: string[] = []
  for (let round = 1; round <= ROUNDS && !failure; round++) {
    process.stderr.write(`${name}: round ${round}/${ROUNDS}\r`)
    // Every side of a round, or none: medians compare like with like. A round that failed is run
    // again once (a shared broker hiccups now and then), and the retry is reported.
    for (let attempt = 1; attempt <= 2; attempt++) {
      let current = sides[0]!
      try {
        const got: SideResult[] = []
        for (const s of sides) {
          current = s
          got.push(await side(name, s, publishCount, e2eCount))
        }
        for (const [i, s] of sides.entries()) results[s]!.push(got[i]!)
        break
      } catch (error) {
        // The worker's last words say why (execFile's message starts with the whole command line).
        const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim()
        const lines = stderr.split('\n')
        const at = lines.findIndex((line) => /error/i.test(line))
        const why = at >= 0 ? lines.slice(at, at + 2).join(' ') : (error as Error).message
        const what = `round ${round}, side ${current}: ${why.trim().slice(0, 300)}`
        if (attempt === 1) retried.push(what)
        else failure = `${what} (twice)`
      }
    }
  }
  for (const what of retried) notes.push(`${name}: ran again after a failure: ${what}`)
  if (failure) {
    // One broker giving up (an emulator timing out) must not lose the other transports' figures.
    console.log(`${name}: left out (${failure})`)
    ;(report.transports as Record<string, unknown>)[name] = { failed: failure }
    continue
  }
  const medians = Object.fromEntries(sides.map((s) => [s, summarise(results[s]!)]))
  if (publishCount !== COUNT) notes.push(`${name}: ${fmt(publishCount)} events in the publish phase`)
  if (e2eCount !== COUNT) notes.push(`${name}: ${fmt(e2eCount)} events in the end-to-end phase`)
  if (target.paced)
    notes.push(
      `${name}: paced phase ${fmt(target.paced.events)} events, ${target.paced.batch} every ${target.paced.intervalMs} ms`,
    )
  const entry: Record<string, unknown> = {
    date: report.date,
    roundCount: ROUNDS,
    e2eEvents: e2eCount,
    ...medians,
    rounds: results,
  }
  for (const s of sides) {
    const m = medians[s]!
    const pct = ([lo, hi]: number[], mid: number) =>
      `${fmt(((lo! - mid) / mid) * 100)}/+${fmt(((hi! - mid) / mid) * 100)} %`
    if (name === 'memory')
      notes.push(
        `memory ${label(s)}: e2e ${fmt(m.e2ePerCpuSec)} events per CPU second (rounds ${results[s]!.map((r) => fmt(r.e2ePerCpuSec ?? 0)).join(', ')})`,
        `memory ${label(s)}: steady e2e (a second phase on the warmed bus) ${fmt(m.steadyE2ePerSec)}/s, ${fmt(m.steadyE2ePerCpuSec)} per CPU second (rounds ${results[s]!.map((r) => fmt(r.steadyE2ePerCpuSec ?? 0)).join(', ')})`,
      )
    notes.push(
      `${name} ${label(s)}: spread over ${ROUNDS} rounds: publish ${pct(m.spread.publishPerSec, m.publishPerSec)}, e2e ${pct(m.spread.e2ePerSec, m.e2ePerSec)}, paced p99 ${fmt(m.spread.p99Ms[0]!, 1)}-${fmt(m.spread.p99Ms[1]!, 1)} ms`,
    )
    rows.push([
      name,
      label(s),
      fmt(m.publishPerSec),
      fmt(m.e2ePerSec),
      fmt(m.p50Ms, 2),
      fmt(m.p99Ms, 2),
      fmt(m.maxRssMb),
    ])
  }
  // Each Omnibus side (the default mode, then its variants) against every other side; a variant not
  // against the default mode again. The per-round ratios (the two sides ran minutes apart at most) are printed too.
  const heads = ['omnibus', ...Object.keys(target.variants ?? {})]
  for (const head of heads) {
    const o = medians[head]!
    for (const s of sides.filter((x) => !heads.includes(x) || (head === 'omnibus' && x !== head))) {
      // A variant (structured mode) against the raw sides, the baselines and the peers: a user choosing
      // between Omnibus and a peer may pick the mode too.
      const peer = target.peers?.includes(s as Peer)
      if (head !== 'omnibus' && !s.startsWith('raw') && !peer && !target.baselines?.some((b) => b.side === s))
        continue
      const r = medians[s]!
      const ratio = {
        publish: o.publishPerSec / r.publishPerSec,
        e2e: o.e2ePerSec / r.e2ePerSec,
        addedP99Ms: o.p99Ms - r.p99Ms,
        memory: o.maxRssMb / r.maxRssMb,
      }
      const prefix = head === 'omnibus' ? 'omnibus' : label(head)
      rows.push([
        name,
        `${prefix} / ${label(s)}`,
        `${fmt(ratio.publish, 2)}×`,
        `${fmt(ratio.e2e, 2)}×`,
        '',
        `${ratio.addedP99Ms >= 0 ? '+' : ''}${fmt(ratio.addedP99Ms, 2)}`,
        `${fmt(ratio.memory, 2)}×`,
      ])
      const perRound = (k: 'publishPerSec' | 'e2ePerSec') =>
        results[head]!.map((x, i) => fmt(x[k] / results[s]![i]![k], 2)).join(' ')
      notes.push(
        `${name} ${prefix} / ${label(s)} per round: publish ${perRound('publishPerSec')}; e2e ${perRound('e2ePerSec')}`,
      )
      if (head !== 'omnibus' && peer)
        entry.peerRatios = { ...(entry.peerRatios as object), [`${head}/${s}`]: ratio }
      else if (head !== 'omnibus')
        entry.variantRatios = { ...(entry.variantRatios as object), [`${head}/${s}`]: ratio }
      else if (s === 'raw') entry.ratio = ratio
      else if (s === 'raw-data') entry.ratioToDataOnly = ratio
      else if (!peer) entry.otherRatios = { ...(entry.otherRatios as object), [s]: ratio }
      else entry.peerRatios = { ...(entry.peerRatios as object), [s]: ratio }
    }
  }
  if (name === 'memory') {
    const codec = await side('memory', 'codec')
    // create + encode + decode per second (see worker.ts codec()); structured, then binary.
    rows.push(['core', 'codec/s structured, 1 KiB pad', fmt(codec.codecPerSec ?? 0), '', '', '', ''])
    rows.push(['core', 'codec/s structured, 1 KiB order', fmt(codec.codecOrderPerSec ?? 0), '', '', '', ''])
    rows.push(['core', 'codec/s structured, small', fmt(codec.codecSmallPerSec ?? 0), '', '', '', ''])
    rows.push(['core', 'codec/s binary, 1 KiB pad', fmt(codec.codecBinaryPerSec ?? 0), '', '', '', ''])
    rows.push(['core', 'codec/s binary, 1 KiB order', fmt(codec.codecBinaryOrderPerSec ?? 0), '', '', '', ''])
    // Encode + decode alone of events made beforehand (issue 20's measure, its 300,000/s target).
    rows.push([
      'core',
      'encode+decode/s structured, 1 KiB pad',
      fmt(codec.codecEncodeDecodePerSec ?? 0),
      '',
      '',
      '',
      '',
    ])
    rows.push([
      'core',
      'encode+decode/s binary, 1 KiB pad',
      fmt(codec.codecBinaryEncodeDecodePerSec ?? 0),
      '',
      '',
      '',
      '',
    ])
    entry.codec = {
      oneKiBPerSec: codec.codecPerSec,
      orderPerSec: codec.codecOrderPerSec,
      smallPerSec: codec.codecSmallPerSec,
      binaryOneKiBPerSec: codec.codecBinaryPerSec,
      binaryOrderPerSec: codec.codecBinaryOrderPerSec,
      encodeDecodeOneKiBPerSec: codec.codecEncodeDecodePerSec,
      binaryEncodeDecodeOneKiBPerSec: codec.codecBinaryEncodeDecodePerSec,
    }
  }
  ;(report.transports as Record<string, unknown>)[name] = entry
}

const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
console.log(
  `\n${report.machine}; ${COUNT} events of 1 KiB unless a target says otherwise, median of ${ROUNDS} rounds;` +
    ` latency from publish to handler start at a steady 1,000 events/s\n`,
)
for (const row of rows)
  console.log(row.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '))
for (const note of notes) console.log(note)
mkdirSync(resultsDir, { recursive: true })
// A run of some transports updates theirs and keeps the other transports' last figures (each entry has its date).
const file = join(resultsDir, 'latest.json')
if (existsSync(file)) {
  const previous = JSON.parse(readFileSync(file, 'utf8')) as { transports?: Record<string, unknown> }
  report.transports = { ...previous.transports, ...(report.transports as Record<string, unknown>) }
}
writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`)
type Entry = {
  ratio?: Ratios
  ratioToDataOnly?: { publish: number; e2e: number }
  peerRatios?: Record<string, { publish: number; e2e: number }>
}
const ratios: Ratios[] = Object.entries(report.transports as Record<string, Entry>)
  .filter(([, e]) => e.ratio)
  .map(([name, e]) => ({ name, publish: e.ratio!.publish, e2e: e.ratio!.e2e, dataOnly: e.ratioToDataOnly }))
if (ratios.length) writeFileSync(join(resultsDir, 'ratios.svg'), chart(ratios))
const peers: PeerRatio[] = Object.entries(report.transports as Record<string, Entry>).flatMap(([name, e]) =>
  // A variant's ratio is keyed `variant/peer` (omnibus-structured/nest).
  Object.entries(e.peerRatios ?? {}).map(([key, r]) => {
    const [peer, variant] = key.split('/').reverse() as [string, string | undefined]
    return {
      name,
      peer: LABELS[peer] ?? peer,
      mode: variant?.replace('omnibus-', '').replace('-', ', ').replace('prefetch256', 'prefetch 256'),
      ...r,
    }
  }),
)
if (peers.length) writeFileSync(join(resultsDir, 'peers.svg'), peerChart(peers))
console.log(
  `\nwrote bench/results/latest.json${ratios.length ? ', bench/results/ratios.svg' : ''}${peers.length ? ', bench/results/peers.svg' : ''}`,
)

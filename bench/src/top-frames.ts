// node bench/dist/top-frames.js FILE.cpuprofile [N]: where a profile (node --cpu-prof) spent its
// time, by self time per function and per package, so a claim about a hot path cites a profile.
import { readFileSync } from 'node:fs'

interface Node {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}
interface Profile {
  nodes: Node[]
  samples: number[]
  timeDeltas: number[]
}

const [file, topArg = '25'] = process.argv.slice(2)
if (!file) {
  console.error('usage: node bench/dist/top-frames.js FILE.cpuprofile [N]')
  process.exit(2)
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const self = new Map<number, number>()
for (const [i, id] of profile.samples.entries())
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
const total = [...self.values()].reduce((a, b) => a + b, 0)

/** The package a script belongs to (node_modules/<pkg>, an @omnibus workspace, or node itself). */
const owner = (url: string): string => {
  if (!url) return '(vm)'
  if (url.startsWith('node:')) return 'node'
  const mod = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)
  if (mod) return mod[1]!
  const ws = url.match(/\/(packages\/[^/]+|bench(?:-peers)?)\//)
  return ws ? ws[1]! : url
}

const frames = new Map<string, number>()
const owners = new Map<string, number>()
for (const [id, us] of self) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame
  const where = url ? `${owner(url)} ${url.split('/').pop()}:${lineNumber + 1}` : ''
  const key = `${functionName || '(anonymous)'}  ${where}`.trim()
  frames.set(key, (frames.get(key) ?? 0) + us)
  owners.set(owner(url), (owners.get(owner(url)) ?? 0) + us)
}
const pct = (us: number) => `${((us / total) * 100).toFixed(1).padStart(5)} %`
const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n)
console.log(`${(total / 1e6).toFixed(2)} s sampled\n\nself time by package:`)
for (const [k, us] of top(owners, 12)) console.log(`${pct(us)}  ${k}`)
console.log('\nself time by function:')
for (const [k, us] of top(frames, Number(topArg))) console.log(`${pct(us)}  ${k}`)

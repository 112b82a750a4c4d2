// Adds up the vitest JSON reports of every workspace into one closing line:
// `tests: N passed, N failed, N skipped`. A workspace with a test script but
// no report (its run crashed) counts as one failure, so nothing is hidden.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const memoryOnly = process.argv.includes('--filter=!@omnibus/adapter-*')
const root = new URL('..', import.meta.url).pathname
const workspaces = ['packages', 'examples'].flatMap((dir) =>
  dir === 'examples' ? ['examples'] : readdirSync(join(root, dir)).map((name) => join(dir, name)),
)
let passed = 0
let failed = 0
let skipped = 0
const lines = []
// Each failed test by name with the first lines of its error, so the tail of a CI log says what failed.
const failures = []
for (const ws of workspaces) {
  const pkgFile = join(root, ws, 'package.json')
  if (!existsSync(pkgFile)) continue
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'))
  if (!pkg.scripts?.test) continue
  if (memoryOnly && (ws.includes('adapter-') || ws === 'packages/postgres')) continue
  const resultsDir = join(root, ws, '.results')
  if (!existsSync(join(resultsDir, 'vitest.json'))) {
    lines.push(`${pkg.name}: no test report (the run crashed or did not start)`)
    failed++
    continue
  }
  // vitest.json, and any further run's vitest-<name>.json (adapter-kafka's cluster suite).
  let p = 0
  let f = 0
  let s = 0
  for (const file of readdirSync(resultsDir).filter((name) => /^vitest.*\.json$/.test(name))) {
    const r = JSON.parse(readFileSync(join(resultsDir, file), 'utf8'))
    p += r.numPassedTests ?? 0
    // A file that failed to load has no failed tests of its own; count the file.
    f += (r.numFailedTests ?? 0) || (r.numFailedTestSuites ?? 0)
    s += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0)
    for (const suite of r.testResults ?? []) {
      const where = `${pkg.name} ${suite.name.slice(join(root, ws).length + 1)}`
      const failedTests = (suite.assertionResults ?? []).filter((t) => t.status === 'failed')
      for (const t of failedTests)
        failures.push(`FAILED ${where} > ${t.fullName}\n${excerpt(t.failureMessages)}`)
      if (suite.status === 'failed' && failedTests.length === 0)
        failures.push(`FAILED ${where}\n${excerpt([suite.message])}`)
    }
  }
  passed += p
  failed += f
  skipped += s
  lines.push(`${pkg.name}: ${p} passed, ${f} failed, ${s} skipped`)
  for (const file of readdirSync(resultsDir)
    .filter((f) => f.startsWith('conformance-'))
    .sort()) {
    lines.push(`  ${readFileSync(join(resultsDir, file), 'utf8').trim()}`)
  }
}
console.log('')
for (const failure of failures) console.log(failure)
for (const line of lines) console.log(line)
const closing = `tests: ${passed} passed, ${failed} failed, ${skipped} skipped`
console.log(closing)
mkdirSync(join(root, '.results'), { recursive: true })
writeFileSync(join(root, '.results', 'summary.txt'), `${[...failures, ...lines].join('\n')}\n${closing}\n`)
process.exit(failed > 0 ? 1 : 0)

/** The first lines of a failure, indented: enough to see the assertion, not the whole stack. */
function excerpt(messages) {
  const text = (messages ?? []).filter(Boolean).join('\n') || '(no message)'
  return text
    .split('\n')
    .filter((line) => !/^\s+at /.test(line))
    .slice(0, 6)
    .map((line) => `    ${line.slice(0, 300)}`)
    .join('\n')
}

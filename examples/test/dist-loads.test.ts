import { execFile } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'

// Every built module of every package loads under plain Node, as a user's service loads it.
// Vitest transforms imports and forgives what Node's ESM loader refuses: a named import of an
// export that a CommonJS client (kafkajs) only spreads into module.exports passed every test here
// and failed in production. The lazily loaded pieces (Kafka drivers, adapters by name) are the
// ones no other test loads outside vitest, so the check covers every module, from its source list.

const packages = fileURLToPath(new URL('../../packages/', import.meta.url))
/** Entry points that run on import (they read argv and exit). */
const ENTRY_POINTS = new Set(['asyncapi/src/cli.ts', 'postgres/src/relay-main.ts'])

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sources(path)
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : []
  })
}

const modules = readdirSync(packages).flatMap((pkg) =>
  sources(join(packages, pkg, 'src'))
    .filter((file) => !ENTRY_POINTS.has(relative(packages, file)))
    .map((file) =>
      file.replace(`${join(packages, pkg, 'src')}`, join(packages, pkg, 'dist')).replace(/\.ts$/, '.js'),
    ),
)

it('every built module loads in a plain Node process', async () => {
  expect(modules.length).toBeGreaterThan(100)
  // One child for all: it imports each module and prints the ones that failed, with why.
  const script = `
    const failed = []
    for (const m of JSON.parse(process.argv[1])) {
      try { await import(m) } catch (e) { failed.push(m + ': ' + String(e).split('\\n')[0]) }
    }
    console.log(JSON.stringify(failed))`
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--input-type=module', '-e', script, JSON.stringify(modules)],
    { timeout: 60_000 },
  )
  expect(JSON.parse(stdout.trim().split('\n').pop()!)).toEqual([])
})

import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const core = resolve(import.meta.dirname, '..')

/** The package a file belongs to (its nearest package.json's name). */
function packageOf(file: string): { name: string; dir: string } {
  let dir = dirname(file)
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir)
  const name = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name
  return name ? { name, dir } : packageOf(dir)
}

/** The names of the packages an install of `dir` brings: its dependencies, and theirs. */
function installed(dir: string, seen = new Set<string>()): Set<string> {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>
    peerDependencies?: Record<string, string>
  }
  for (const name of Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies })) {
    if (seen.has(name)) continue
    seen.add(name)
    const found = ts.resolveModuleName(
      `${name}/package.json`,
      join(dir, 'x.ts'),
      {
        moduleResolution: ts.ModuleResolutionKind.Node10,
        resolveJsonModule: true,
      },
      ts.sys,
    ).resolvedModule
    const where = found ? dirname(found.resolvedFileName) : join(core, '../../node_modules', name)
    if (existsSync(join(where, 'package.json'))) installed(where, seen)
  }
  return seen
}

describe('the published types', () => {
  it('compile for a strict consumer with only typescript, needing no package core does not declare', () => {
    expect(existsSync(join(core, 'dist/index.d.ts')), 'build @omnibus/core first').toBe(true)
    const app = mkdtempSync(join(tmpdir(), 'omnibus-consumer-'))
    mkdirSync(join(app, 'node_modules/@omnibus'), { recursive: true })
    symlinkSync(core, join(app, 'node_modules/@omnibus/core'), 'dir')
    writeFileSync(join(app, 'package.json'), '{ "type": "module" }')
    writeFileSync(
      join(app, 'app.ts'),
      [
        "import { consoleLogger, createBus, type Envelope, QueryTimeoutError } from '@omnibus/core'",
        "const bus = await createBus({ service: 's', transports: { m: { adapter: 'memory' } }, logger: consoleLogger() })",
        "bus.on<{ n: number }>('t', async (e: Envelope<{ n: number }>) => void e.data?.n)",
        'export const failed = (e: unknown) => e instanceof QueryTimeoutError',
      ].join('\n'),
    )
    const program = ts.createProgram([join(app, 'app.ts')], {
      strict: true,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2023,
      lib: ['lib.es2023.d.ts'],
      types: [],
      skipLibCheck: false,
      noEmit: true,
    })
    const errors = ts
      .getPreEmitDiagnostics(program)
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))
    expect(errors).toEqual([])
    // Whatever the compiler loaded must come with an install of @omnibus/core.
    const declared = installed(core)
    const needed = new Set<string>()
    for (const file of program.getSourceFiles()) {
      if (!file.fileName.includes('node_modules') || program.isSourceFileDefaultLibrary(file)) continue
      const { name } = packageOf(file.fileName)
      if (name !== '@omnibus/core' && name !== 'typescript') needed.add(name)
    }
    expect([...needed].filter((name) => !declared.has(name))).toEqual([])
  }, 60_000)
})

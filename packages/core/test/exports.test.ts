import { resolve } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const src = resolve(import.meta.dirname, '../src')

/** Every name (value or type) an entry point exports, as a consumer's compiler sees it. */
function exportedNames(entry: string): string[] {
  const file = resolve(src, entry)
  const program = ts.createProgram([file], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    noEmit: true,
  })
  const checker = program.getTypeChecker()
  const source = program.getSourceFile(file)
  const module = source && checker.getSymbolAtLocation(source)
  if (!module) throw new Error(`cannot read ${file}`)
  return checker.getExportsOfModule(module).map((symbol) => symbol.name)
}

describe('the root export', () => {
  // Issue 14: the root is the application API. Adapter and integration pieces go to
  // `@omnibus/core/adapter`, definition types to `@omnibus/core/catalog`.
  it('holds at most 35 names', () => {
    const names = exportedNames('index.ts')
    expect(names.length, names.sort().join(', ')).toBeLessThanOrEqual(35)
    expect(names).toEqual(
      expect.arrayContaining(['createBus', 'Bus', 'Envelope', 'OmnibusError', 'memoryTransport']),
    )
    // A whole TypeScript program is built: seconds on a busy machine, not the default 5.
  }, 60_000)
})

import { readFileSync } from 'node:fs'
import { Parser } from '@asyncapi/parser'
import { asyncapi, toYaml } from '@omnibus/asyncapi'
import { describe, expect, it } from 'vitest'
import { catalog } from '../src/catalog.js'

const here = (path: string) => new URL(path, import.meta.url).pathname

describe('examples/asyncapi.yaml', () => {
  it('is what `npm run asyncapi -w examples` writes from the catalog today, and valid AsyncAPI 3.0', async () => {
    const fresh = toYaml(await asyncapi({ catalog, config: here('../config/mixed.json') }))
    const committed = readFileSync(here('../asyncapi.yaml'), 'utf8')
    // Stale: run `npm run asyncapi -w examples` and commit examples/asyncapi.yaml.
    expect(committed).toBe(fresh)
    const { diagnostics } = await new Parser().parse(committed)
    expect(diagnostics.filter((d) => d.severity === 0).map((d) => d.message)).toEqual([])
  }, 30_000)
})

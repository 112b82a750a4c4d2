import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const cli = new URL('../dist/cli.js', import.meta.url).pathname
const example = (path: string) => new URL(`../../../examples/${path}`, import.meta.url).pathname

describe('omnibus-asyncapi', () => {
  it('writes the same document as the committed example, from a TypeScript catalog module', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'asyncapi-')), 'asyncapi.yaml')
    await run(process.execPath, [
      cli,
      '--config',
      example('config/mixed.json'),
      '--catalog',
      example('src/catalog.ts'),
      '--out',
      out,
    ])
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(example('asyncapi.yaml'), 'utf8'))
  }, 30_000)

  it('says how to call it, and exits 1, without its arguments', async () => {
    const failure = await run(process.execPath, [cli, '--config', example('config/kafka.json')]).catch(
      (error: { code: number; stderr: string }) => error,
    )
    expect(failure).toMatchObject({ code: 1, stderr: expect.stringContaining('usage: omnibus-asyncapi') })
  })
})

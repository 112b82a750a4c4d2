#!/usr/bin/env node
// omnibus-asyncapi --config <config.json> --catalog <module> [--service <name>] [--out <file>]
// The catalog module exports a catalog (defineCatalog) as `catalog` or as its default export.
import { writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { errorMessage } from '@omnibus/core/adapter'
import type { Catalog } from '@omnibus/core/catalog'
import { asyncapi, toYaml } from './index.js'

const usage =
  'usage: omnibus-asyncapi --config <config.json> --catalog <module> [--service <name>] [--out <file>]'

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      config: { type: 'string' },
      catalog: { type: 'string' },
      service: { type: 'string' },
      out: { type: 'string' },
    },
  })
  if (!values.config || !values.catalog) throw new Error(usage)
  const module = (await import(pathToFileURL(resolve(values.catalog)).href)) as {
    catalog?: Catalog
    default?: Catalog
  }
  const catalog = module.catalog ?? module.default
  if (!catalog?.messages)
    throw new Error(`${values.catalog} exports no catalog (export const catalog = defineCatalog(…))`)
  const yaml = toYaml(await asyncapi({ catalog, config: values.config, service: values.service }))
  if (values.out) writeFileSync(values.out, yaml)
  else process.stdout.write(yaml)
}

main().catch((error: unknown) => {
  process.stderr.write(`omnibus-asyncapi: ${errorMessage(error)}\n`)
  process.exit(1)
})

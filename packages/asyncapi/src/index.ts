/** @omnibus/asyncapi: the AsyncAPI 3.0 document of an Omnibus system or service, from its catalog and bus config. */
import { stringify } from 'yaml'

export { type AsyncApiOptions, asyncapi } from './document.js'
export type { JsonSchema, JsonSchemaOf } from './json-schema.js'

/** The document as YAML, the same text for the same document (what `omnibus-asyncapi` writes). */
export function toYaml(document: Record<string, unknown>): string {
  return stringify(document, { aliasDuplicateObjects: false, lineWidth: 0 })
}

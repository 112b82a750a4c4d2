import { OmnibusError } from '@omnibus/core'
import type { Schema } from '@omnibus/core/catalog'

export type JsonSchema = Record<string, unknown>

/** Turns a schema its library cannot describe itself into JSON Schema (draft-07, the wire's input type). */
export type JsonSchemaOf = (schema: Schema) => JsonSchema | undefined

interface StandardJson {
  jsonSchema?: { input(options: { target: string }): JsonSchema }
}

interface ValibotConverter {
  toJsonSchema(schema: unknown, config: { typeMode: 'input'; errorMode: 'warn' | 'throw' }): JsonSchema
}

/**
 * The JSON Schema of what goes on the wire (the schema's input type): from the
 * library's Standard JSON Schema (zod 4, arktype), from `@valibot/to-json-schema`
 * for valibot, or from `custom`. `$schema` is dropped: AsyncAPI schemas are draft-07 already.
 */
export async function jsonSchemaOf(
  schema: Schema,
  where: string,
  custom?: JsonSchemaOf,
): Promise<JsonSchema> {
  const standard = schema['~standard'] as Schema['~standard'] & StandardJson
  let json = custom?.(schema)
  if (!json && standard.jsonSchema) json = standard.jsonSchema.input({ target: 'draft-07' })
  if (!json && standard.vendor === 'valibot') {
    const converter = await import('@valibot/to-json-schema' as string).catch((error: unknown) => {
      throw new OmnibusError(
        'CONFIG_INVALID',
        `${where}: a valibot schema needs @valibot/to-json-schema to become JSON Schema; npm install @valibot/to-json-schema`,
        { cause: error },
      )
    })
    json = (converter as ValibotConverter).toJsonSchema(schema, { typeMode: 'input', errorMode: 'throw' })
  }
  if (!json) {
    throw new OmnibusError(
      'CONFIG_INVALID',
      `${where}: the ${standard.vendor} schema has no JSON Schema form; pass jsonSchema: (schema) => ({...}) to asyncapi()`,
    )
  }
  const { $schema: _, ...rest } = json
  return rest
}

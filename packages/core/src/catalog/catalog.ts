import { OmnibusError } from '../errors.js'
import { type AnyDefinition, isDefinition } from './define.js'

/** Which messages one service sends and which it handles (for the AsyncAPI document of that service). */
export interface ServiceSpec {
  readonly sends?: readonly AnyDefinition[]
  readonly receives?: readonly AnyDefinition[]
}

export interface CatalogSpec {
  readonly title: string
  /** The version of the catalog (the API), not of a message. */
  readonly version?: string
  readonly description?: string
  /** Every message definition, each version of a type as its own definition. */
  readonly messages: readonly AnyDefinition[]
  readonly services?: Readonly<Record<string, ServiceSpec>>
}

/** The messages of a system, checked to be consistent. */
export interface Catalog extends CatalogSpec {
  /** Every version of `type`, in the order given. */
  versionsOf(type: string): readonly AnyDefinition[]
}

/**
 * Groups definitions into a catalog. Throws CONFIG_INVALID when a type is
 * defined twice with the same `dataschema`, with two kinds, or when a service
 * names a definition the catalog does not hold.
 */
export function defineCatalog(spec: CatalogSpec): Catalog {
  const byType = new Map<string, AnyDefinition[]>()
  spec.messages.forEach((definition, i) => {
    if (!isDefinition(definition)) {
      throw new OmnibusError(
        'CONFIG_INVALID',
        `catalog messages[${i}] is not a message definition (defineEvent, …)`,
      )
    }
    const versions = byType.get(definition.type) ?? []
    for (const other of versions) {
      if (other.kind !== definition.kind) {
        throw new OmnibusError(
          'CONFIG_INVALID',
          `catalog: ${definition.type} is defined both as a ${other.kind} and as a ${definition.kind}`,
        )
      }
      if (other.dataschema === definition.dataschema) {
        throw new OmnibusError(
          'CONFIG_INVALID',
          `catalog: ${definition.type} is defined twice with dataschema ${other.dataschema ?? '(none)'}; give each version its own version or dataschema`,
        )
      }
    }
    byType.set(definition.type, [...versions, definition])
  })
  const held = new Set(spec.messages)
  for (const [service, roles] of Object.entries(spec.services ?? {})) {
    for (const role of ['sends', 'receives'] as const) {
      for (const definition of roles[role] ?? []) {
        if (!held.has(definition)) {
          throw new OmnibusError(
            'CONFIG_INVALID',
            `catalog services.${service}.${role}: ${definition?.type ?? String(definition)} is not in the catalog's messages`,
          )
        }
      }
    }
  }
  return Object.freeze({ ...spec, versionsOf: (type: string) => byType.get(type) ?? [] })
}

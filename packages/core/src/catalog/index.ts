/**
 * @omnibus/core/catalog: the types of typed message definitions, for code that names them
 * (`DataOut<typeof OrderPlaced>`, a function taking any definition, a tool reading a catalog).
 * The functions that make definitions (`defineEvent`, …, `upcast`) and the three definition types
 * are in the root.
 */
export type { Catalog, CatalogSpec, ServiceSpec } from './catalog.js'
export {
  type AnswerIn,
  type AnswerOut,
  type AnyDefinition,
  type DataIn,
  type DataOut,
  type DefinitionSpec,
  type InputOf,
  isDefinition,
  type MessageDefinition,
  type OutputOf,
  type QuerySpec,
  type Schema,
} from './define.js'
export type { Accepted, SendOptions, TypedHandler, Upcaster, VersionOptions } from './typed.js'

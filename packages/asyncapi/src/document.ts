import { type BusConfig, OmnibusError, readConfigFile } from '@omnibus/core'
import { type Channel, Router, validateConfig } from '@omnibus/core/adapter'
import type { AnyDefinition, Catalog } from '@omnibus/core/catalog'
import { type JsonSchema, type JsonSchemaOf, jsonSchemaOf } from './json-schema.js'
import { type Binder, binderFor } from './transports.js'

export interface AsyncApiOptions {
  catalog: Catalog
  /** The bus config (object, or a JSON file path): which transport and channel each message takes. */
  config: (Omit<BusConfig, 'service'> & { service?: string }) | string
  /** One service's document (what it sends and receives). Default: the whole system. */
  service?: string
  /** JSON Schema for schemas whose library cannot produce it itself. */
  jsonSchema?: JsonSchemaOf
}

type Doc = Record<string, unknown>
type Role = { service: string; definition: AnyDefinition; action: 'send' | 'receive' }

const id = (text: string): string => text.replace(/[^A-Za-z0-9._-]/g, '_')
const ref = (...path: string[]): { $ref: string } => ({
  $ref: `#/${path.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}`,
})

/** Who sends and who receives what: the catalog's services, or every message both ways for one service. */
function rolesOf(catalog: Catalog, service: string | undefined, fallback: string): Role[] {
  const services = catalog.services ?? {}
  const names = service !== undefined ? [service] : Object.keys(services)
  if (names.length === 0 || (service !== undefined && !services[service])) {
    const who = service ?? fallback
    return catalog.messages.flatMap((definition) => [
      { service: who, definition, action: 'send' as const },
      { service: who, definition, action: 'receive' as const },
    ])
  }
  return names.flatMap((who) => [
    ...(services[who]?.sends ?? []).map((definition) => ({
      service: who,
      definition,
      action: 'send' as const,
    })),
    ...(services[who]?.receives ?? []).map((definition) => ({
      service: who,
      definition,
      action: 'receive' as const,
    })),
  ])
}

const attributes: Record<string, JsonSchema> = {
  id: { type: 'string', description: 'unique per message; redeliveries keep it' },
  source: {
    type: 'string',
    format: 'uri-reference',
    description: 'the sender, urn:omnibus:<service> by default',
  },
  specversion: { type: 'string', const: '1.0' },
  time: { type: 'string', format: 'date-time' },
  subject: { type: 'string' },
  partitionkey: { type: 'string', description: 'ordering key: same key, same order' },
  correlationid: { type: 'string', description: 'the conversation; follow-ups carry it forward' },
  causationid: { type: 'string', description: 'the id of the message that caused this one' },
  traceparent: { type: 'string', description: 'W3C trace context' },
  tracestate: { type: 'string' },
}

/** The CloudEvents attributes of `definition` as a JSON Schema object, with `prefix` before each name. */
function ceAttributes(definition: AnyDefinition, prefix: string): JsonSchema {
  const properties: Record<string, JsonSchema> = {}
  for (const [name, schema] of Object.entries(attributes)) properties[prefix + name] = schema
  properties[`${prefix}type`] = { type: 'string', const: definition.type }
  properties[`${prefix}messagekind`] = { type: 'string', const: definition.kind }
  if (definition.dataschema !== undefined) {
    properties[`${prefix}dataschema`] = { type: 'string', const: definition.dataschema }
  }
  if (definition.kind === 'query') {
    properties[`${prefix}replyto`] = { type: 'string', description: "the asker's reply channel" }
    properties[`${prefix}deadline`] = { type: 'string', format: 'date-time' }
  }
  const required = ['id', 'source', 'specversion', 'type', 'messagekind'].map((n) => prefix + n)
  return { type: 'object', properties, required }
}

/** Builds the AsyncAPI 3.0 document of a system (or one service) from its catalog and bus config. */
export async function asyncapi(options: AsyncApiOptions): Promise<Doc> {
  const { catalog } = options
  const raw = (typeof options.config === 'string' ? readConfigFile(options.config) : options.config) as Doc
  const fallback = options.service ?? (typeof raw.service === 'string' ? raw.service : 'service')
  const config = { ...raw, service: fallback } as BusConfig
  validateConfig(config)
  const transports = Object.keys(config.transports)
  const router = new Router(config.routes ?? [], config.defaultTransport ?? transports[0]!)
  const binders = new Map<string, Binder>()
  for (const name of transports) {
    const spec = config.transports[name]
    if (!spec || typeof spec !== 'object' || !('adapter' in spec)) {
      throw new OmnibusError(
        'CONFIG_INVALID',
        `transports.${name}: the generator needs a config entry with adapter`,
      )
    }
    binders.set(name, await binderFor(name, spec as Doc))
  }

  const servers: Doc = {}
  const channels: Record<string, Doc & { messages: Doc }> = {}
  const operations: Doc = {}
  const schemas: Doc = {}
  const messageKey = (d: AnyDefinition) => {
    const versions = catalog.versionsOf(d.type)
    if (versions.length < 2) return id(d.type)
    return id(`${d.type}.v${d.version ?? versions.indexOf(d) + 1}`)
  }

  const channelOf = (transport: string, channel: Channel, binder: Binder): string => {
    const key = id(`${transport}.${channel.name}`)
    if (!channels[key]) {
      const server = binder.server(channel)
      servers[server] = binder.servers[server]
      channels[key] = {
        address: binder.address(channel),
        title: `${channel.name} (${channel.kind === 'topic' ? 'every group gets each message' : 'one handler per message'})`,
        servers: [ref('servers', server)],
        messages: {},
        bindings: binder.channelBindings(channel),
      }
    }
    return key
  }

  const payloadOf = async (definition: AnyDefinition, key: string, part: 'data' | 'answer') => {
    const schemaKey = `${key}.${part}`
    if (!schemas[schemaKey]) {
      const schema = part === 'answer' && definition.kind === 'query' ? definition.answer : definition.schema
      schemas[schemaKey] = await jsonSchemaOf(schema, `${definition.type} ${part}`, options.jsonSchema)
    }
    return ref('components', 'schemas', schemaKey)
  }

  const message = async (definition: AnyDefinition, key: string, binder: Binder, transport: string) => {
    const data = await payloadOf(definition, key, 'data')
    const msg: Doc = {
      name: definition.type,
      title: `${definition.type}${definition.version ? ` v${definition.version}` : ''}`,
      summary: definition.description ?? `${definition.kind} ${definition.type}`,
    }
    if (binder.encoding.mode === 'binary') {
      const { prefix } = binder.encoding
      msg.contentType = 'application/json'
      msg.headers = ceAttributes(definition, prefix)
      msg.payload = data
      msg.correlationId = { location: `$message.header#/${prefix}correlationid` }
    } else {
      const envelope = ceAttributes(definition, '')
      ;(envelope.properties as Doc).datacontenttype = { type: 'string', const: 'application/json' }
      ;(envelope.properties as Doc).data = data
      msg.contentType = 'application/cloudevents+json'
      msg.payload = envelope
      msg.correlationId = { location: '$message.payload#/correlationid' }
    }
    if (
      definition.partitionKey &&
      config.transports[transport] &&
      binder.servers[transport]?.protocol === 'kafka'
    ) {
      msg.bindings = {
        kafka: { key: { type: 'string', description: 'the partitionkey' }, bindingVersion: '0.5.0' },
      }
    }
    if (definition.examples?.length) {
      msg.examples = definition.examples.map((example, i) => ({ name: `example${i + 1}`, payload: example }))
    }
    return msg
  }

  for (const { service, definition, action } of rolesOf(catalog, options.service, fallback)) {
    const { transport, channel } = router.resolve(definition.type, definition.kind)
    const binder = binders.get(transport)!
    const channelKey = channelOf(transport, channel, binder)
    const key = messageKey(definition)
    channels[channelKey]!.messages[key] ??= await message(definition, key, binder, transport)
    const operation: Doc = {
      action,
      channel: ref('channels', channelKey),
      messages: [ref('channels', channelKey, 'messages', key)],
      summary: `${service} ${action === 'send' ? verb(definition) : 'handles'} ${definition.type}`,
      'x-omnibus-service': service,
    }
    if (action === 'receive') {
      const group = channel.kind === 'queue' ? channel.name : service
      const where = binder.receive(channel, group)
      operation.description = `Received from ${where.where}.`
      if (where.bindings) operation.bindings = where.bindings
    }
    if (definition.kind === 'query') operation.reply = await replyOf(definition, key, transport, binder)
    operations[id(`${service}.${action}.${key}`)] = operation
  }

  async function replyOf(definition: AnyDefinition, key: string, transport: string, binder: Binder) {
    const replyKey = id(`${transport}.replies`)
    channels[replyKey] ??= {
      address: null,
      title: "an asker's reply queue, omnibus.reply.<service>.<instance>, named in the query's replyto",
      servers: Object.keys(binder.servers)
        .filter((s) => s.endsWith('-sqs') || !s.endsWith('-sns'))
        .map((s) => ref('servers', s)),
      messages: {},
    } as Doc & { messages: Doc }
    const answerKey = `${key}.reply`
    channels[replyKey]!.messages[answerKey] ??= {
      name: `${definition.type}.reply`,
      title: `answer to ${definition.type}`,
      contentType: 'application/json',
      payload: await payloadOf(definition, key, 'answer'),
    }
    const prefix =
      binder.encoding.mode === 'binary' ? `$message.header#/${binder.encoding.prefix}` : '$message.payload#/'
    return {
      address: { location: `${prefix}replyto` },
      channel: ref('channels', replyKey),
      messages: [ref('channels', replyKey, 'messages', answerKey)],
    }
  }

  return {
    asyncapi: '3.0.0',
    info: {
      title: options.service ? `${catalog.title}: ${options.service}` : catalog.title,
      version: catalog.version ?? '0.0.0',
      ...(catalog.description ? { description: catalog.description } : {}),
    },
    defaultContentType: 'application/json',
    servers,
    channels,
    operations,
    components: { schemas },
  }
}

const verb = (d: AnyDefinition) =>
  d.kind === 'event' ? 'publishes' : d.kind === 'command' ? 'sends' : 'asks'

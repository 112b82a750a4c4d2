import { Parser } from '@asyncapi/parser'
import { defineCatalog, defineCommand, defineEvent, defineQuery } from '@omnibus/core'
import { type } from 'arktype'
import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { z } from 'zod'
import { type AsyncApiOptions, asyncapi, toYaml } from '../src/index.js'

const PlacedV1 = defineEvent({
  type: 'com.acme.order.placed',
  version: '1',
  data: z.object({ orderId: z.string() }),
})
const Placed = defineEvent({
  type: 'com.acme.order.placed',
  version: '2',
  description: 'An order was placed',
  data: z.object({
    orderId: z.string(),
    total: z.number(),
    at: z.iso.datetime().transform((s) => new Date(s)),
  }),
  partitionKey: (o) => o.orderId,
  examples: [{ orderId: 'o-1', total: 12.5, at: '2026-11-30T08:00:00Z' }],
})
const Reserve = defineCommand({
  type: 'com.acme.stock.reserve',
  data: v.object({ sku: v.string(), quantity: v.pipe(v.number(), v.integer()) }),
})
const Level = defineQuery({
  type: 'com.acme.stock.level',
  data: type({ sku: 'string' }),
  answer: type({ available: 'number' }),
})
const catalog = defineCatalog({
  title: 'Acme orders',
  version: '1.2.0',
  messages: [PlacedV1, Placed, Reserve, Level],
  services: {
    orders: { sends: [Placed, Reserve, Level] },
    inventory: { receives: [Reserve, Level] },
    notifications: { receives: [Placed, PlacedV1] },
  },
})

const configs = {
  kafka: { transports: { main: { adapter: 'kafka', brokers: ['127.0.0.1:9092'] } } },
  rabbitmq: { transports: { main: { adapter: 'rabbitmq', url: 'amqp://guest:secret@127.0.0.1:5672/shop' } } },
  aws: {
    transports: {
      main: { adapter: 'aws', region: 'eu-west-1', namePrefix: 'shop-', fifo: ['com.acme.order.placed'] },
    },
  },
  gcp: { transports: { main: { adapter: 'gcp', projectId: 'p', mode: 'structured' } } },
  memory: { transports: { main: { adapter: 'memory' } } },
  mixed: {
    transports: {
      events: { adapter: 'kafka', brokers: ['127.0.0.1:9092'], mode: 'structured' },
      commands: { adapter: 'rabbitmq', url: 'amqp://guest:guest@127.0.0.1:5672' },
    },
    routes: [
      { kind: 'command', transport: 'commands' },
      { kind: 'query', transport: 'commands' },
    ],
    defaultTransport: 'events',
  },
} satisfies Record<string, AsyncApiOptions['config']>

/** The value at `path` in a generated document. */
const at = (doc: unknown, ...path: (string | number)[]): unknown =>
  path.reduce<unknown>((node, key) => (node as Record<string | number, unknown> | undefined)?.[key], doc)

/** One parser for every document: the first parse loads its rulesets, which takes seconds. */
const parser = new Parser()

async function errorsOf(document: Record<string, unknown>): Promise<string[]> {
  const { diagnostics } = await parser.parse(toYaml(document))
  // Severity 0 is an error; warnings (1) and hints are reported by the test title only.
  return diagnostics.filter((d) => d.severity === 0).map((d) => `${d.path.join('.')}: ${d.message}`)
}

describe('the AsyncAPI 3.0 document', () => {
  for (const [name, config] of Object.entries(configs)) {
    it(`validates with @asyncapi/parser, no errors (${name})`, async () => {
      const document = await asyncapi({ catalog, config })
      expect(await errorsOf(document)).toEqual([])
    }, 30_000) // the parser's validation is CPU-bound: seconds per document on a busy 2-core machine
  }

  it('names channels as the adapters do and carries their bindings', async () => {
    const aws = await asyncapi({ catalog, config: configs.aws })
    expect(at(aws, 'channels', 'main.com.acme.order.placed', 'address')).toMatch(
      /^shop-com_acme_order_placed-[0-9a-f]{8}\.fifo$/,
    )
    expect(at(aws, 'channels', 'main.com.acme.order.placed', 'bindings', 'sns', 'ordering', 'type')).toBe(
      'FIFO',
    )
    expect(
      at(
        aws,
        'operations',
        'notifications.receive.com.acme.order.placed.v2',
        'bindings',
        'sqs',
        'queues',
        0,
        'name',
      ),
    ).toMatch(/^shop-com_acme_order_placed_notifications-[0-9a-f]{8}\.fifo$/)
    const kafka = await asyncapi({ catalog, config: configs.kafka })
    expect(at(kafka, 'channels', 'main.com.acme.order.placed', 'bindings', 'kafka', 'topic')).toBe(
      'com.acme.order.placed',
    )
    expect(
      at(
        kafka,
        'operations',
        'notifications.receive.com.acme.order.placed.v2',
        'bindings',
        'kafka',
        'groupId',
        'enum',
      ),
    ).toEqual(['omnibus.notifications@com.acme.order.placed'])
    const placed = at(kafka, 'channels', 'main.com.acme.order.placed', 'messages', 'com.acme.order.placed.v2')
    expect(at(placed, 'headers', 'properties', 'ce_dataschema', 'const')).toBe(
      'urn:omnibus:schema:com.acme.order.placed:2',
    )
    expect(at(placed, 'bindings', 'kafka', 'key', 'type')).toBe('string')
    const rabbit = await asyncapi({ catalog, config: configs.rabbitmq })
    expect(at(rabbit, 'servers', 'main', 'host')).toBe('127.0.0.1:5672/shop')
    expect(JSON.stringify(rabbit)).not.toContain('secret')
    expect(at(rabbit, 'channels', 'main.com.acme.stock.reserve', 'bindings', 'amqp')).toMatchObject({
      is: 'queue',
    })
    expect(
      at(rabbit, 'operations', 'inventory.receive.com.acme.stock.level', 'reply', 'address', 'location'),
    ).toBe('$message.header#/cloudEvents_replyto')
  })

  it('describes the wire: the input type as JSON Schema, from zod, valibot and arktype', async () => {
    const doc = await asyncapi({ catalog, config: configs.memory })
    const schemas = at(doc, 'components', 'schemas')
    expect(at(schemas, 'com.acme.order.placed.v2.data', 'properties', 'at')).toMatchObject({ type: 'string' })
    expect(at(schemas, 'com.acme.stock.reserve.data', 'properties', 'quantity')).toMatchObject({
      type: 'integer',
    })
    expect(at(schemas, 'com.acme.stock.level.answer', 'properties', 'available')).toMatchObject({
      type: 'number',
    })
    const structured = at(
      doc,
      'channels',
      'main.com.acme.stock.reserve',
      'messages',
      'com.acme.stock.reserve',
    )
    expect(at(structured, 'contentType')).toBe('application/cloudevents+json')
    expect(at(structured, 'payload', 'properties', 'data')).toEqual({
      $ref: '#/components/schemas/com.acme.stock.reserve.data',
    })
  })

  it("documents one service's operations only when asked", async () => {
    const doc = await asyncapi({ catalog, config: configs.kafka, service: 'inventory' })
    expect(Object.keys(at(doc, 'operations') as object).sort()).toEqual([
      'inventory.receive.com.acme.stock.level',
      'inventory.receive.com.acme.stock.reserve',
    ])
    expect(parse(toYaml(doc))).toEqual(doc)
  })
})

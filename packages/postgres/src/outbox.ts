import type { Envelope, EnvelopeInput } from '@omnibus/core'
import { createEnvelope, type ExtensionValue } from '@omnibus/core/adapter'
import { storeCall } from './errors.js'

/** What the outbox writes through: a pg `Client` or `PoolClient` in the caller's transaction. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rowCount: number | null; rows: unknown[] }>
}

export interface OutboxWriteOptions {
  /** Publish no earlier than this many ms after this write (a scheduled message, e.g. a timeout). Default 0. */
  delayMs?: number
}

type Kind = 'event' | 'command'

/**
 * Writes messages to the outbox table inside the caller's transaction: they are published
 * by a relay if, and only if, that transaction commits.
 */
export class Outbox {
  constructor(
    private readonly schema: string,
    private readonly source: string,
  ) {}

  /** Queues events for publishing; returns the envelopes (ids assigned) as they will be published. */
  publish<T>(
    client: Queryable,
    input: EnvelopeInput<T> | readonly EnvelopeInput<T>[],
    options?: OutboxWriteOptions,
  ) {
    return this.write('event', client, input, options)
  }

  /** Queues commands for sending; see publish. */
  send<T>(
    client: Queryable,
    input: EnvelopeInput<T> | readonly EnvelopeInput<T>[],
    options?: OutboxWriteOptions,
  ) {
    return this.write('command', client, input, options)
  }

  /** Removes a queued message not published yet (e.g. a timeout no longer needed); true if it was there. */
  async cancel(client: Queryable, id: string): Promise<boolean> {
    const r = await storeCall('cancelling an outbox message', () =>
      client.query(`delete from ${this.schema}.outbox where id = $1 and published_at is null`, [id]),
    )
    return (r.rowCount ?? 0) > 0
  }

  private async write<T>(
    kind: Kind,
    client: Queryable,
    input: EnvelopeInput<T> | readonly EnvelopeInput<T>[],
    options: OutboxWriteOptions = {},
  ): Promise<Envelope<T>[]> {
    const inputs = Array.isArray(input) ? (input as readonly EnvelopeInput<T>[]) : [input as EnvelopeInput<T>]
    // Validated now, so a bad message fails the caller's transaction rather than the relay.
    const envelopes = inputs.map((i) => createEnvelope(kind, i, this.source))
    if (envelopes.length === 0) return envelopes
    const delayMs = Math.max(0, options.delayMs ?? 0)
    // A scheduled message must not hold back its key's later messages: it is unordered.
    const keys = envelopes.map((e) =>
      delayMs === 0 && typeof e.partitionkey === 'string' ? e.partitionkey : null,
    )
    await storeCall(`writing ${envelopes.length} message(s) to the outbox`, () =>
      client.query(
        `insert into ${this.schema}.outbox (id, kind, ordering_key, envelope, due_at)
         select id, $2, k, e, clock_timestamp() + $5 * interval '1 millisecond'
         from unnest($1::text[], $3::text[], $4::jsonb[]) as t(id, k, e)`,
        [envelopes.map((e) => e.id), kind, keys, envelopes.map(toStored), delayMs],
      ),
    )
    return envelopes
  }
}

const attributes = new Set([
  'id',
  'source',
  'type',
  'subject',
  'time',
  'datacontenttype',
  'dataschema',
  'partitionkey',
  'correlationid',
  'causationid',
  'traceparent',
  'tracestate',
])
const dropped = new Set(['specversion', 'messagekind', 'data', 'data_base64'])

/** The envelope as stored: its attributes, and data as JSON (bytes as base64). */
function toStored(envelope: Envelope): string {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(envelope)) if (!dropped.has(k) && v !== undefined) out[k] = v
  const data = envelope.data as unknown
  if (data instanceof Uint8Array) out.data_base64 = Buffer.from(data).toString('base64')
  else if (data !== undefined) out.data = data
  return JSON.stringify(out)
}

/** The stored form back as input with the same id, source and time: a duplicate is the same message. */
export function fromStored(stored: Record<string, unknown>): EnvelopeInput {
  const input: Record<string, unknown> = {}
  const extensions: Record<string, ExtensionValue> = {}
  for (const [k, v] of Object.entries(stored)) {
    if (attributes.has(k)) input[k] = v
    else if (k === 'data') input.data = v
    else if (k === 'data_base64') input.data = new Uint8Array(Buffer.from(String(v), 'base64'))
    else extensions[k] = v as ExtensionValue
  }
  if (Object.keys(extensions).length > 0) input.extensions = extensions
  return input as unknown as EnvelopeInput
}

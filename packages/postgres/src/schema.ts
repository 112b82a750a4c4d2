import type { Pool } from 'pg'
import { storeCall } from './errors.js'
import { inTransaction } from './tx.js'

/**
 * Versioned migrations. Each runs once per schema, in order, inside one transaction that
 * holds an advisory lock, so instances starting together do not race. Never edit a
 * released entry: add a new one.
 */
const migrations: readonly { version: number; name: string; sql: (s: string) => string }[] = [
  {
    version: 1,
    name: 'outbox',
    sql: (s) => `
      create table ${s}.outbox (
        seq bigserial primary key,
        id text not null,
        kind text not null,
        ordering_key text,
        envelope jsonb not null,
        created_at timestamptz not null default now(),
        due_at timestamptz not null default now(),
        attempts int not null default 0,
        last_error text,
        published_at timestamptz
      );
      create index outbox_pending on ${s}.outbox (due_at, seq) where published_at is null;
      create index outbox_key on ${s}.outbox (ordering_key, seq)
        where published_at is null and ordering_key is not null;
      create index outbox_done on ${s}.outbox (published_at) where published_at is not null;
      create function ${s}.outbox_notify() returns trigger language plpgsql as $$
        begin perform pg_notify('${notifyChannel(s)}', ''); return null; end $$;
      create trigger outbox_notify after insert on ${s}.outbox
        for each statement execute function ${s}.outbox_notify();`,
  },
  {
    version: 2,
    name: 'inbox',
    sql: (s) => `
      create table ${s}.inbox (
        key text primary key,
        expires_at timestamptz not null,
        handled_at timestamptz not null default now()
      );
      create index inbox_expiry on ${s}.inbox (expires_at);`,
  },
  {
    version: 3,
    name: 'saga',
    sql: (s) => `
      create table ${s}.saga (
        name text not null,
        key text not null,
        state jsonb not null,
        status text not null default 'running',
        version int not null default 0,
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        primary key (name, key)
      );
      create index saga_status on ${s}.saga (name, status);`,
  },
  {
    version: 4,
    name: 'saga timeouts',
    sql: (s) => `alter table ${s}.saga add column timeouts jsonb not null default '{}'`,
  },
  {
    // The relay claims the oldest due rows: walking this index in order stops after a batch,
    // where outbox_pending made PostgreSQL sort the whole backlog first.
    version: 5,
    name: 'outbox claim order',
    sql: (s) => `create index outbox_claim on ${s}.outbox (seq) where published_at is null`,
  },
]

export const SCHEMA_VERSION = migrations.length

/** The LISTEN/NOTIFY channel the outbox of `schema` wakes its relays on. */
export function notifyChannel(schema: string): string {
  return `omnibus_outbox_${schema}`
}

/** Creates the schema and applies the migrations it lacks; returns the versions applied now. */
export async function migrate(pool: Pool, schema: string): Promise<number[]> {
  return storeCall(`migrating schema ${schema}`, () =>
    inTransaction(pool, `migrating schema ${schema}`, async (client) => {
      // hashtext is stable across servers of one major version: every instance takes the same lock.
      await client.query(`select pg_advisory_xact_lock(hashtext($1))`, [`omnibus.migrate.${schema}`])
      await client.query(`create schema if not exists ${schema}`)
      await client.query(`create table if not exists ${schema}.omnibus_migrations (
        version int primary key, name text not null, applied_at timestamptz not null default now())`)
      const done = new Set(
        (
          await client.query<{ version: number }>(`select version from ${schema}.omnibus_migrations`)
        ).rows.map((r) => r.version),
      )
      const applied: number[] = []
      for (const m of migrations) {
        if (done.has(m.version)) continue
        await client.query(m.sql(schema))
        await client.query(`insert into ${schema}.omnibus_migrations (version, name) values ($1, $2)`, [
          m.version,
          m.name,
        ])
        applied.push(m.version)
      }
      return applied
    }),
  )
}

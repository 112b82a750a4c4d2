// Outbox relay and inbox figures: `npm run bench -w packages/postgres [-- memory kafka]`.
// Needs `npm run brokers -- up postgres kafka` and a build (`npm run build`). Not a test: it prints.
import { type Bus, type BusConfig, createBus } from '@omnibus/core'
import { Durable } from '@omnibus/postgres'
import pg from 'pg'

const url = process.env.OMNIBUS_POSTGRES_URL ?? 'postgres://omnibus@127.0.0.1:5433/omnibus'
const kafka = (process.env.OMNIBUS_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',')
const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000)
const INBOX_MESSAGES = Number(process.env.BENCH_INBOX ?? 5_000)
const payload = 'x'.repeat(1024 - 40) // with the envelope's other data fields: ~1 KiB of data
const transports: Record<string, BusConfig['transports']> = {
  memory: { main: { adapter: 'memory' } },
  kafka: { main: { adapter: 'kafka', brokers: kafka } },
}
const which = process.argv.slice(2).filter((a) => a in transports)
const pool = new pg.Pool({ connectionString: url, max: 20 })
const rid = () => `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`

async function fill(durable: Durable, type: string): Promise<void> {
  for (let n = 0; n < EVENTS; n += 1000) {
    const client = await pool.connect()
    await client.query('begin')
    const batch = Array.from({ length: Math.min(1000, EVENTS - n) }, (_, i) => ({
      type,
      data: { n: n + i, payload },
    }))
    await durable.outbox.publish(client, batch)
    await client.query('commit')
    client.release()
  }
}

/** Rows published per second by `relays` relays draining a backlog of EVENTS rows, and the share of their time spent in the broker's publish. */
async function relayRate(
  name: string,
  relays: number,
  batchSize: number,
): Promise<{ rate: number; brokerShare: number }> {
  const schema = `bench_${rid()}`
  const durable = new Durable({ pool, schema, service: 'bench' })
  await durable.migrate()
  const type = `com.bench.${rid()}`
  await fill(durable, type)
  const buses: Bus[] = []
  for (let i = 0; i < relays; i++) {
    const bus = await createBus({ service: 'bench', transports: transports[name]! })
    await bus.start()
    // Warm-up, not timed: connections, metadata, topic creation.
    await bus.publish({ type, data: { warm: true } })
    buses.push(bus)
  }
  // Time spent waiting for the broker's confirms, to say where the limit is.
  let brokerMs = 0
  const timed = (b: Bus) => ({
    publish: async (input: Parameters<Bus['publish']>[0]) => {
      const t = performance.now()
      await b.publish(input)
      brokerMs += performance.now() - t
    },
    send: (input: Parameters<Bus['send']>[0]) => b.send(input),
  })
  const started = buses.map((b) =>
    durable.relay(timed(b), { batchSize, pollIntervalMs: 60_000, retentionMs: 0 }),
  )
  const t0 = performance.now()
  await Promise.all(started.map((r) => r.start()))
  const total = EVENTS
  while (started.reduce((a, r) => a + r.stats.published, 0) < total)
    await new Promise((r) => setTimeout(r, 5))
  const seconds = (performance.now() - t0) / 1000
  await Promise.all(started.map((r) => r.stop()))
  await Promise.all(buses.map((b) => b.stop()))
  await pool.query(`drop schema ${schema} cascade`)
  return { rate: total / seconds, brokerShare: brokerMs / relays / (seconds * 1000) }
}

/** Handled commands per second on the memory transport, with and without the inbox. */
async function inboxRate(withInbox: boolean): Promise<number> {
  const schema = `bench_${rid()}`
  const durable = new Durable({ pool, schema, service: 'bench' })
  await durable.migrate()
  const type = `com.bench.inbox.${rid()}`
  const bus = await createBus({
    service: 'bench',
    transports: transports.memory!,
    delivery: { maxInFlight: 32 },
  })
  if (withInbox) bus.use(durable.inbox())
  let handled = 0
  bus.handle(type, async () => void handled++)
  await bus.start()
  const t0 = performance.now()
  for (let n = 0; n < INBOX_MESSAGES; n += 500) {
    await bus.send(Array.from({ length: 500 }, (_, i) => ({ type, data: { n: n + i } })))
  }
  while (handled < INBOX_MESSAGES) await new Promise((r) => setTimeout(r, 2))
  const seconds = (performance.now() - t0) / 1000
  await bus.stop()
  await pool.query(`drop schema ${schema} cascade`)
  return INBOX_MESSAGES / seconds
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US')
const rows: string[] = []
for (const name of which.length ? which : ['memory', 'kafka']) {
  for (const relays of [1, 4]) {
    for (const batchSize of [500, 2000]) {
      const { rate, brokerShare } = await relayRate(name, relays, batchSize)
      rows.push(
        `| relay → ${name} | ${relays} | ${batchSize} | ${fmt(rate)} events/s | ${Math.round(brokerShare * 100)}% |`,
      )
      console.log(rows.at(-1))
    }
  }
}
const plain = await inboxRate(false)
const inbox = await inboxRate(true)
rows.push(`| handler, memory, no inbox | | | ${fmt(plain)} msg/s | |`)
rows.push(
  `| handler, memory, inbox() | | | ${fmt(inbox)} msg/s (+${((1 / inbox - 1 / plain) * 1e6).toFixed(0)} µs per message) | |`,
)
console.log(rows.slice(-2).join('\n'))
console.log(
  `\n${EVENTS.toLocaleString('en-US')} events of ~1 KiB per relay run; ${INBOX_MESSAGES} commands per inbox run\n`,
)
console.log('| what | relays | batch | rate | time in broker publish |\n|---|---:|---:|---:|---:|')
console.log(rows.join('\n'))
await pool.end()

import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Durable } from '@omnibus/postgres'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { shopReport } from '../src/saga/report.js'
import { SKUS, settled } from '../src/saga/run.js'
import { createShopTables, placeOrders } from '../src/saga/shop.js'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const url = process.env.OMNIBUS_POSTGRES_URL ?? 'postgres://omnibus@127.0.0.1:5433/omnibus'
const rabbit = process.env.OMNIBUS_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672'
const run = promisify(execFile)
const ORDERS = 1000
const id = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`
const schema = `saga_chaos_${id}`
const prefix = `com.chaos.${id}`

const pool = new pg.Pool({ connectionString: url, max: 5 })
pool.on('error', () => undefined) // idle connections lost in the PostgreSQL restart

/** Set when a service exits without being killed by the test: the chaos must be ours only. */
let crashed: string | undefined

/** Every service started, so that a failed run leaves no child process behind. */
const children = new Set<ChildProcess>()

/** The shop service as a child process, on RabbitMQ; resolves once it said "ready". */
function startService(log: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, [resolve(root, 'dist/saga/service.js')], {
    env: {
      ...process.env,
      OMNIBUS_POSTGRES_URL: url,
      SAGA_SCHEMA: schema,
      SAGA_PREFIX: prefix,
      SAGA_DEADLINE_MS: '20000',
      SAGA_CONFIG: JSON.stringify({
        transports: { main: { adapter: 'rabbitmq', url: rabbit } },
        // PostgreSQL restarts under it: retry long enough never to dead-letter for that.
        delivery: { maxAttempts: 1000, initialDelayMs: 50, maxDelayMs: 1000 },
      }),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  child.once('exit', () => children.delete(child))
  child.stderr!.on('data', (d: Buffer) => log.push(d.toString()))
  return new Promise((resolveReady, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`service not ready in 60 s: ${log.join('').slice(-2000)}`)),
      60_000,
    )
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) {
        clearTimeout(timer)
        resolveReady(child)
      }
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      if (signal !== 'SIGKILL' && signal !== 'SIGTERM')
        crashed = `service exited (${code ?? signal}): ${log.join('').slice(-3000)}`
      reject(new Error(crashed ?? 'killed'))
    })
  })
}

const killed = (child: ChildProcess): Promise<void> =>
  new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done()
    child.once('exit', () => done())
    child.kill('SIGKILL')
  })

const progress = async (): Promise<number> => {
  const r = await pool
    .query(`select count(*) as n from ${schema}.orders where status <> 'placed'`)
    .catch(() => undefined)
  return Number(r?.rows[0]?.n ?? 0)
}

beforeAll(async () => {
  // The child runs the compiled service: build it from the current sources.
  await run(
    process.execPath,
    [resolve(root, '../node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    { cwd: root },
  )
  await createShopTables(pool, schema, SKUS)
}, 120_000)

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL')
  await pool.query(`drop schema if exists ${schema} cascade`).catch(() => undefined)
  await pool.end()
})

describe('the order saga under chaos', () => {
  it('finishes 1,000 orders exactly right while the service is SIGKILLed twice and PostgreSQL restarts once', async () => {
    const log: string[] = []
    let service = await startService(log)
    const orders = new Durable({ pool, schema, service: 'orders' })
    await orders.migrate()
    const events: string[] = []

    // Orders come in 20 at a time, whatever happens to the service or the database.
    const placing = (async () => {
      for (let n = 0; n < ORDERS; n += 20) {
        for (;;) {
          try {
            await placeOrders(pool, orders, schema, prefix, n, n + 20)
            break
          } catch {
            // The batch may have committed before the connection broke: then it is there.
            const r = await pool
              .query(`select 1 from ${schema}.orders where id = $1`, [`o-${n}`])
              .catch(() => undefined)
            if (r?.rowCount === 1) break
            await new Promise((r) => setTimeout(r, 200))
          }
        }
        await new Promise((r) => setTimeout(r, 100))
      }
    })()

    const when = async (done: number): Promise<void> => {
      const deadline = Date.now() + 180_000
      while ((await progress()) < done) {
        if (crashed) throw new Error(crashed)
        if (Date.now() > deadline) throw new Error(`fewer than ${done} orders finished after 180 s`)
        await new Promise((r) => setTimeout(r, 50))
      }
    }
    await when(150)
    await killed(service)
    events.push(`SIGKILL at ${await progress()} orders finished`)
    service = await startService(log)
    await when(400)
    // Hold the script's own lock order: restart goes through scripts/brokers (it takes .lock-postgres).
    await run('bash', [resolve(root, '../scripts/brokers'), 'restart', 'postgres'], { timeout: 120_000 })
    events.push(`PostgreSQL restarted at ${await progress()} orders finished`)
    await when(650)
    await killed(service)
    events.push(`SIGKILL at ${await progress()} orders finished`)
    service = await startService(log)
    await placing

    const ok = await settled(pool, schema, ORDERS, 240_000)
    expect(crashed).toBeUndefined()
    const report = await shopReport(pool, schema, ORDERS, SKUS)
    service.kill('SIGTERM')
    await new Promise((r) => service.once('exit', r))
    console.log(`chaos: ${events.join('; ')}; result ${JSON.stringify(report)}`)
    expect(ok, `not settled: ${JSON.stringify(report)}`).toBe(true)
    expect(report.problems).toEqual([])
    expect(report.sagas).toEqual({ confirmed: 800, compensated: 100, 'timed-out': 100 })
    expect(report.orderStatus).toEqual({ confirmed: 800, cancelled: 200 })
    expect(report.charges).toBe(800)
    expect(report.unpublished).toBe(0)
    // The kills and the restart happened with work in flight, not after it.
    expect(events.every((e) => !e.includes(`at ${ORDERS} `))).toBe(true)
  }, 600_000)
})

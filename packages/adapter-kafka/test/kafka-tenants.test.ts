import { auditing, expectDenied, uniq, waitFor } from '@omnibus/conformance'
import { type Bus, createBus, type Envelope } from '@omnibus/core'
import { afterEach, describe, expect, it } from 'vitest'
import { kafkaTransport } from '../src/index.js'
import { cert, passwordFile, SECURE_BROKERS, secureOptions } from './secure-helpers.js'

// Tenants on `scripts/brokers up kafka-secure`: users tenant-a and tenant-b each have ACLs only
// on topics prefixed with their own name and groups prefixed omnibus.<name>. (scripts/brokers.d/
// secure.sh). A tenant-scoped bus puts every channel and group under its prefix (group ids get the
// adapter's groupPrefix omnibus. before it). The audit names the principal of each decision.
const buses: Bus[] = []
afterEach(async () => {
  await Promise.allSettled(buses.splice(0).map((b) => b.stop()))
})

/** A bus of `tenant` that logs in to kafka-secure as `user`. */
async function tenantBus(tenant: string, user: string, service: string, audit = auditing()): Promise<Bus> {
  const bus = await createBus({
    service,
    tenant,
    transports: {
      events: {
        adapter: 'kafka',
        brokers: SECURE_BROKERS,
        ssl: { caFile: cert('ca.pem') },
        sasl: { mechanism: 'scram-sha-512', username: user, passwordFile: passwordFile(user) },
      },
    },
    logger: audit.logger,
    instrumentation: audit.instrumentation,
  })
  buses.push(bus)
  return bus
}

describe('kafka-secure: tenants kept apart by ACLs per tenant principal', () => {
  it("a tenant's bus sends and handles on its own prefixed channels, and the audit names its principal", async () => {
    const type = uniq('com.acme.order')
    const audit = auditing()
    const consumer = await tenantBus('tenant-a', 'tenant-a', 'billing', audit)
    const got: Envelope[] = []
    consumer.on(type, async (e) => void got.push(e), { from: 'earliest' })
    await consumer.start()
    const producer = await tenantBus('tenant-a', 'tenant-a', 'shop')
    await producer.publish({ type, data: { total: 12 } })
    await waitFor('the tenant event', () => got.length === 1, 30_000)
    expect(got[0]!.tenantid).toBe('tenant-a')
    const line = audit.lines.find(
      (l) => l.startsWith('info subscription authorized') && l.includes(`"tenant-a.${type}"`),
    )
    expect(audit.fields(line)).toMatchObject({
      service: 'billing',
      group: 'tenant-a.billing',
      channel: `tenant-a.${type}`,
      transport: 'events',
      system: 'kafka',
      principal: 'User:tenant-a',
      tenant: 'tenant-a',
    })
    expect(audit.records).toContainEqual(
      expect.objectContaining({ outcome: 'allowed', operation: 'subscribe', principal: 'User:tenant-a' }),
    )
  })

  it("tenant A's consumer cannot read tenant B's channel: FORBIDDEN, audited as denied", async () => {
    const type = uniq('com.acme.order')
    // Tenant B's channel exists and has messages.
    const b = await tenantBus('tenant-b', 'tenant-b', 'shop')
    await b.publish({ type, data: { secret: 'b only' } })
    // Tenant A's principal, configured onto tenant B's channels.
    const audit = auditing()
    const intruder = await tenantBus('tenant-b', 'tenant-a', 'billing', audit)
    const handled: Envelope[] = []
    intruder.on(type, async (e) => void handled.push(e), { from: 'earliest' })
    const { error, ms } = await expectDenied(() => intruder.start(), 'FORBIDDEN')
    expect(error.channel).toMatch(/^tenant-b\./)
    expect(ms).toBeLessThan(15_000)
    expect(handled).toEqual([])
    const denied = audit.lines.find((l) => l.startsWith('info access denied'))
    expect(audit.fields(denied)).toMatchObject({
      outcome: 'denied',
      code: 'FORBIDDEN',
      principal: 'User:tenant-a',
      service: 'billing',
      transport: 'events',
      system: 'kafka',
    })
    expect(audit.records).toContainEqual(
      expect.objectContaining({ outcome: 'denied', code: 'FORBIDDEN', principal: 'User:tenant-a' }),
    )
    // Straight at the topic, without a bus: the broker still says no.
    const raw = kafkaTransport(
      secureOptions({
        sasl: { mechanism: 'scram-sha-512', username: 'tenant-a', passwordFile: passwordFile('tenant-a') },
        groupPrefix: 'tenant-a.',
      }),
    )
    try {
      await raw.connect()
      const channel = { name: `tenant-b.${type}`, kind: 'topic' as const }
      const read = await expectDenied(
        () => raw.subscribe(channel, 'spy', async () => {}, { maxInFlight: 1, from: 'earliest' }),
        'FORBIDDEN',
      )
      expect(read.error.channel).toBe(channel.name)
    } finally {
      await raw.close()
    }
  })
})

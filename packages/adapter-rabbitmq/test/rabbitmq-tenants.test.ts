import { auditing, expectDenied, uniq, waitFor } from '@omnibus/conformance'
import { type Bus, createBus, type Envelope } from '@omnibus/core'
import { afterEach, describe, expect, it } from 'vitest'
import { cert, passwordFile, SECURE_URL } from './secure-helpers.js'

// A RabbitMQ vhost per tenant on `scripts/brokers up rabbitmq-secure`: users tenant-a and tenant-b
// may use only their own vhost. The tenant's bus keeps channel names (channels: "shared") and
// gets its vhost from the transport's URL; the audit names the principal of each decision.
const buses: Bus[] = []
afterEach(async () => {
  await Promise.allSettled(buses.splice(0).map((b) => b.stop()))
})

const vhostUrl = (vhost: string): string => new URL(`/${vhost}`, SECURE_URL).toString()

async function tenantBus(tenant: string, user: string, vhost: string, service: string) {
  const { logger, lines, records, instrumentation, fields } = auditing()
  const bus = await createBus({
    service,
    tenant: { id: tenant, channels: 'shared' },
    transports: {
      commands: {
        adapter: 'rabbitmq',
        url: vhostUrl(vhost),
        username: user,
        passwordFile: passwordFile(user),
        tls: { caFile: cert('ca.pem') },
      },
    },
    logger,
    instrumentation,
  })
  buses.push(bus)
  return { bus, lines, records, fields }
}

describe('rabbitmq-secure: a vhost per tenant', () => {
  it("a tenant's bus works in its own vhost, and the audit names its principal", async () => {
    const type = uniq('com.acme.invoice')
    const handler = await tenantBus('tenant-a', 'tenant-a', 'tenant-a', 'billing')
    const got: Envelope[] = []
    handler.bus.handle(type, async (e) => void got.push(e))
    await handler.bus.start()
    const sender = await tenantBus('tenant-a', 'tenant-a', 'tenant-a', 'shop')
    await sender.bus.send({ type, data: { total: 3 } })
    await waitFor('the command', () => got.length === 1, 20_000)
    expect(got[0]!.tenantid).toBe('tenant-a')
    const line = handler.lines.find(
      (l) => l.startsWith('info subscription authorized') && l.includes(`"${type}"`),
    )
    expect(handler.fields(line)).toMatchObject({
      service: 'billing',
      channel: type,
      group: type,
      transport: 'commands',
      system: 'rabbitmq',
      principal: 'tenant-a',
      tenant: 'tenant-a',
    })
    expect(handler.records).toContainEqual(
      expect.objectContaining({ outcome: 'allowed', principal: 'tenant-a' }),
    )
  })

  it("tenant A's credentials on tenant B's vhost: FORBIDDEN, audited as denied", async () => {
    const intruder = await tenantBus('tenant-b', 'tenant-a', 'tenant-b', 'billing')
    intruder.bus.handle(uniq('com.acme.invoice'), async () => {})
    const { ms } = await expectDenied(() => intruder.bus.start(), 'FORBIDDEN')
    expect(ms).toBeLessThan(10_000)
    expect(intruder.fields(intruder.lines.find((l) => l.startsWith('info access denied')))).toMatchObject({
      outcome: 'denied',
      operation: 'connect',
      code: 'FORBIDDEN',
      principal: 'tenant-a',
      transport: 'commands',
      system: 'rabbitmq',
    })
    expect(intruder.records).toContainEqual(expect.objectContaining({ outcome: 'denied', code: 'FORBIDDEN' }))
  })
})

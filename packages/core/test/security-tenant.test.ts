import { afterEach, describe, expect, it } from 'vitest'
import { createEvent, type Transport } from '../src/adapter/index.js'
import {
  type Bus,
  type BusConfig,
  createBus,
  type Envelope,
  type Logger,
  MemoryBroker,
  memoryTransport,
} from '../src/index.js'
import { waitFor } from './helpers.js'
import { auditRecords, recorded } from './security-helpers.js'

const buses: Bus[] = []
afterEach(async () => {
  await Promise.all(buses.splice(0).map((b) => b.stop()))
})

function capture() {
  const lines: { level: string; message: string; fields: Record<string, unknown> }[] = []
  const logger = Object.fromEntries(
    ['debug', 'info', 'warn', 'error'].map((level) => [
      level,
      (message: string, fields: Record<string, unknown> = {}) => lines.push({ level, message, fields }),
    ]),
  ) as unknown as Logger
  return { logger, lines }
}

async function bus(transport: Transport, config: Partial<BusConfig>, service = 'svc') {
  const b = await createBus({
    service,
    transports: { m: transport },
    delivery: { maxAttempts: 1, initialDelayMs: 1, maxDelayMs: 2 },
    ...config,
  })
  buses.push(b)
  return b
}

describe('tenant-scoped buses', () => {
  it('stamp tenantid on every message and keep each tenant on its own prefixed channels and groups', async () => {
    const broker = new MemoryBroker()
    const a = recorded(broker)
    const consumer = await bus(a.transport, { tenant: 'tenant-a' })
    const got: Envelope[] = []
    consumer.on('com.acme.order', async (e) => void got.push(e))
    await consumer.start()
    const b = recorded(broker)
    const other = await bus(b.transport, { tenant: { id: 'tenant-b' } }, 'other')
    const gotB: Envelope[] = []
    other.on('com.acme.order', async (e) => void gotB.push(e))
    await other.start()
    const producer = await bus(recorded(broker).transport, { tenant: 'tenant-a' }, 'producer')
    await producer.publish({ type: 'com.acme.order', data: 1 })
    await waitFor('tenant A gets its event', () => got.length === 1)
    expect(got[0]!.tenantid).toBe('tenant-a')
    expect(gotB).toEqual([])
    expect([...a.channels].every((c) => c.startsWith('tenant-a.'))).toBe(true)
    expect(a.channels).toContain('tenant-a.com.acme.order')
    expect([...b.channels].every((c) => c.startsWith('tenant-b.'))).toBe(true)
  })

  it('refuse to send a message of another tenant', async () => {
    const producer = await bus(recorded(new MemoryBroker()).transport, { tenant: 'tenant-a' })
    await expect(
      producer.publish({ type: 'x', data: 1, extensions: { tenantid: 'tenant-b' } }),
    ).rejects.toMatchObject({
      code: 'ENVELOPE_INVALID',
      message: expect.stringMatching(/scoped to tenant "tenant-a"/),
    })
  })

  it('on a shared channel, dead-letter what belongs to another tenant instead of handling it', async () => {
    const broker = new MemoryBroker()
    const consumer = await bus(recorded(broker).transport, { tenant: { id: 'tenant-a', channels: 'shared' } })
    const got: Envelope[] = []
    consumer.on('com.acme.shared', async (e) => void got.push(e))
    await consumer.start()
    const letters: Envelope[] = []
    const reader = await bus(
      recorded(broker).transport,
      { tenant: { id: 'tenant-a', channels: 'shared' } },
      'r',
    )
    reader.onDeadLetter('com.acme.shared', async (e) => void letters.push(e))
    await reader.start()
    const raw = memoryTransport({ broker })
    const on = { name: 'com.acme.shared', kind: 'topic' as const }
    await raw.publish(on, [
      createEvent({ type: 'com.acme.shared', source: 'urn:t', extensions: { tenantid: 'tenant-b' } }),
    ])
    await raw.publish(on, [
      createEvent({ type: 'com.acme.shared', source: 'urn:t', extensions: { tenantid: 'tenant-a' } }),
    ])
    await waitFor('one handled, one dead-lettered', () => letters.length === 1 && got.length === 1)
    expect(String(letters[0]!.dlreason)).toMatch(/belongs to tenant "tenant-b", not "tenant-a"/)
  })
})

describe('audit', () => {
  it('logs every subscription at info with service, group, channel, transport and principal, and counts it', async () => {
    const { logger, lines } = capture()
    const { instrumentation, records } = auditRecords()
    const consumer = await bus(recorded(new MemoryBroker()).transport, {
      logger,
      instrumentation,
      tenant: 'tenant-a',
    })
    consumer.on('com.acme.audited', async () => {}, { group: 'billing' })
    await consumer.start()
    const line = lines.find(
      (l) => l.message === 'subscription authorized' && l.fields.channel === 'tenant-a.com.acme.audited',
    )
    expect(line?.level).toBe('info')
    expect(line?.fields).toMatchObject({
      service: 'svc',
      group: 'tenant-a.billing',
      transport: 'm',
      system: 'memory',
      principal: 'in-process',
      tenant: 'tenant-a',
      outcome: 'allowed',
    })
    expect(
      records.filter((r) => r.outcome === 'allowed' && r.operation === 'subscribe').length,
    ).toBeGreaterThan(0)
  })

  it('logs and counts a denied attempt, then throws it on', async () => {
    const { logger, lines } = capture()
    const { instrumentation, records } = auditRecords()
    const denying = recorded(new MemoryBroker(), (c) => c.name === 'com.acme.secret')
    const consumer = await bus(denying.transport, { logger, instrumentation })
    consumer.on('com.acme.secret', async () => {})
    await expect(consumer.start()).rejects.toMatchObject({ code: 'FORBIDDEN' })
    const denied = lines.find((l) => l.message === 'access denied')
    expect(denied?.level).toBe('info')
    expect(denied?.fields).toMatchObject({
      operation: 'subscribe',
      channel: 'com.acme.secret',
      group: 'svc',
      code: 'FORBIDDEN',
    })
    expect(records).toContainEqual(expect.objectContaining({ outcome: 'denied', channel: 'com.acme.secret' }))
  })
})

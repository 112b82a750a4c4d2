import { createBus, memoryTransport } from '@omnibus/core'
import { afterEach, describe, expect, it } from 'vitest'
import { sdk, uniq } from './helpers.js'

// The audit's counter: one decision per subscription allowed (and per attempt denied).
const stops: (() => Promise<void>)[] = []
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()))
})

describe('omnibus.authorizations', () => {
  it('counts each subscription the transport allowed, with its principal', async () => {
    const otel = sdk()
    const bus = await createBus({
      service: 'audited',
      transports: { m: memoryTransport() },
      instrumentation: otel.instrumentation(),
    })
    stops.push(() => bus.stop())
    bus.on(uniq('com.acme.audited'), async () => {})
    await bus.start()
    const metric = await otel.metric('omnibus.authorizations')
    const points = metric?.dataPoints ?? []
    const subscribe = points.find((p) => p.attributes['messaging.operation.name'] === 'subscribe')
    expect(subscribe?.value).toBeGreaterThanOrEqual(1)
    expect(subscribe?.attributes).toMatchObject({
      'omnibus.outcome': 'allowed',
      'omnibus.principal': 'in-process',
    })
  })
})

import { createBus } from '@omnibus/core'
import type { TransportSpec } from '@omnibus/core/adapter'
import { describe, expect, it } from 'vitest'
import { aws, gcp, kafka, rabbitmq } from './brokers.js'
import { type Sdk, sdk, uniq, waitFor } from './helpers.js'

const N = 5

async function backlogOf(telemetry: Sdk, type: string): Promise<number | undefined> {
  const gauge = await telemetry.metric('omnibus.consumer.backlog')
  const point = gauge?.dataPoints.find((p) => p.attributes['messaging.destination.name'] === type)
  return point?.value as number | undefined
}

/**
 * A consumer stops making progress (its handler waits on a gate, one at a time), N events are
 * published: the gauge shows at least N; the gate opens, everything is handled: it shows 0.
 */
async function stallAndRecover(transport: TransportSpec) {
  const telemetry = sdk()
  const type = `com.omnibus.${uniq('lag')}`
  const consumer = await createBus({
    service: uniq('lagged'),
    transports: { main: transport },
    instrumentation: telemetry.instrumentation(),
  })
  const producer = await createBus({ service: uniq('producer'), transports: { main: transport } })
  let open!: () => void
  const gate = new Promise<void>((resolve) => {
    open = resolve
  })
  let handled = 0
  consumer.on(
    type,
    async () => {
      await gate
      handled++
    },
    { maxInFlight: 1 },
  )
  await Promise.all([consumer.start(), producer.start()])
  try {
    await waitFor('a first reading', async () => (await backlogOf(telemetry, type)) === 0)
    await producer.publish(Array.from({ length: N }, (_, n) => ({ type, data: { n } })))
    let seen = 0
    await waitFor(`the backlog at ${N} or more`, async () => {
      seen = (await backlogOf(telemetry, type)) ?? -1
      return seen >= N
    })
    expect(seen).toBeGreaterThanOrEqual(N)
    open()
    await waitFor('every event handled', () => handled === N)
    await waitFor('the backlog back at 0', async () => (await backlogOf(telemetry, type)) === 0)
  } finally {
    open()
    await Promise.all([consumer.stop(), producer.stop()])
  }
}

describe('the backlog gauge', () => {
  it('on kafka: high watermark minus the committed offset', () => stallAndRecover(kafka()))
  it('on rabbitmq: ready plus unacknowledged', () => stallAndRecover(rabbitmq()))
  it('on SNS/SQS: visible plus not visible', () => stallAndRecover(aws()))

  it('on the Pub/Sub emulator: absent, not zero, and the capability says why', async () => {
    const telemetry = sdk()
    const type = `com.omnibus.${uniq('lag')}`
    const bus = await createBus({
      service: uniq('gcp'),
      transports: { main: gcp() },
      instrumentation: telemetry.instrumentation(),
    })
    bus.on(type, () => undefined)
    await bus.start()
    try {
      await bus.publish({ type, data: {} })
      expect(await backlogOf(telemetry, type)).toBeUndefined()
      const { adapter } = await import('@omnibus/adapter-gcp')
      // A config's `adapter` key is core's, not the adapter's: it is not passed on.
      const { adapter: _name, ...options } = gcp()
      const transport = adapter.create(options as never, {
        key: 'transports.main',
        service: 'x',
        logger: console,
      })
      expect(transport.backlog).toBeUndefined()
      expect(transport.capabilities.notes?.backlog).toMatch(/Cloud Monitoring/)
    } finally {
      await bus.stop()
    }
  })
})

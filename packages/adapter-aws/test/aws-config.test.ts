import { ConfigError } from '@omnibus/core'
import { describe, expect, it } from 'vitest'
import { adapter, awsTransport, groupQueueName, resourceName } from '../src/index.js'

const context = {
  key: 'transports.events',
  service: 'svc',
  logger: { debug() {}, info() {}, warn() {}, error() {} },
}

describe('aws options and names (no broker)', () => {
  it('names the offending option in ConfigError', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ region: 'US East' }, 'transports.events.region'],
      [{ endpoint: 'not a url' }, 'transports.events.endpoint'],
      [{ credentials: { accessKeyId: 'a' } }, 'transports.events.credentials'],
      [{ namePrefix: 'bad.prefix' }, 'transports.events.namePrefix'],
      [{ fifo: 'yes' }, 'transports.events.fifo'],
      [{ provision: 'no' }, 'transports.events.provision'],
      [{ visibilityTimeout: 1 }, 'transports.events.visibilityTimeout'],
      [{ waitTimeSeconds: 21 }, 'transports.events.waitTimeSeconds'],
      [{ publishConcurrency: 0 }, 'transports.events.publishConcurrency'],
      [{ sqsClient: {} }, 'transports.events.sqsClient'],
    ]
    for (const [options, key] of cases) {
      let error: unknown
      try {
        adapter.create(options as never, context)
      } catch (e) {
        error = e
      }
      expect(error, key).toBeInstanceOf(ConfigError)
      expect((error as ConfigError).key).toBe(key)
    }
  })

  it('says ordering only when every channel is FIFO', () => {
    expect(awsTransport({ region: 'us-east-1' }).capabilities.ordering).toBe(false)
    expect(awsTransport({ region: 'us-east-1', fifo: ['a'] }).capabilities.ordering).toBe(false)
    expect(awsTransport({ region: 'us-east-1', fifo: true }).capabilities.ordering).toBe(true)
    expect(awsTransport({ region: 'us-east-1' }).capabilities.maxMessageBytes).toBe(262_144)
  })

  it('maps names onto valid AWS names, deterministically', () => {
    expect(resourceName('', 'orders', false)).toBe('orders')
    expect(resourceName('p-', 'orders', true)).toBe('p-orders.fifo')
    const dotted = resourceName('', 'com.acme.order.placed', false)
    expect(dotted).toMatch(/^com_acme_order_placed-[0-9a-f]{8}$/)
    expect(resourceName('', 'com_acme_order_placed', false)).not.toBe(dotted)
    expect(resourceName('', 'com.acme.order.placed', false)).toBe(dotted)
    const long = resourceName('prefix-', 'x'.repeat(200), true)
    expect(long.length).toBeLessThanOrEqual(80)
    expect(long).toMatch(/^prefix-x+-[0-9a-f]{8}\.fifo$/)
    expect(resourceName('', 'x'.repeat(200), false)).not.toBe(resourceName('', `${'x'.repeat(199)}y`, false))
    const group = groupQueueName('', 'orders', 'billing', false)
    expect(group).toMatch(/^orders_billing-[0-9a-f]{8}$/)
    expect(group).not.toBe(resourceName('', 'orders_billing', false))
    for (const name of [dotted, long, group]) expect(name).toMatch(/^[A-Za-z0-9_-]+(\.fifo)?$/)
  })
})

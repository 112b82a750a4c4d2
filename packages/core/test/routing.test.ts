import { describe, expect, it } from 'vitest'
import { Router } from '../src/adapter/index.js'

describe('routing', () => {
  const router = new Router(
    [
      { match: 'com.acme.order.*', transport: 'events', channel: 'orders' },
      { kind: 'command', transport: 'commands' },
      { match: 'com.acme.stock.level', kind: 'query', transport: 'commands' },
    ],
    'fallback',
  )

  it('puts pattern-matched types on a shared channel', () => {
    expect(router.resolve('com.acme.order.placed', 'event')).toEqual({
      transport: 'events',
      channel: { name: 'orders', kind: 'topic' },
    })
    expect(router.resolve('com.acme.order.cancelled', 'event').channel.name).toBe('orders')
  })

  it('routes by kind, a channel per type by default, queues for commands and queries', () => {
    expect(router.resolve('com.acme.stock.reserve', 'command')).toEqual({
      transport: 'commands',
      channel: { name: 'com.acme.stock.reserve', kind: 'queue' },
    })
    expect(router.resolve('com.acme.stock.level', 'query').channel.kind).toBe('queue')
  })

  it('falls back to the default transport, and patterns match whole types only', () => {
    expect(router.resolve('com.acme.orderly', 'event').transport).toBe('fallback')
    expect(router.resolve('xcom.acme.order.placed', 'event').transport).toBe('fallback')
    expect(router.resolve('com.acme.stock.level', 'event').transport).toBe('fallback')
  })
})

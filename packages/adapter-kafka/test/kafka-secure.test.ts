import { capturingLogger, expectDenied } from '@omnibus/conformance'
import type { Transport } from '@omnibus/core/adapter'
import { afterEach, describe, expect, it } from 'vitest'
import { kafkaTransport } from '../src/index.js'
import { event, recorder, uniq, waitFor } from './helpers.js'
import { cert, password, passwordFile, secureOptions } from './secure-helpers.js'

// Against `scripts/brokers up kafka-secure`: SASL_SSL on 127.0.0.1:9094, ACLs only for
// topics and groups prefixed com.omnibus. and omnibus. for user omnibus.

const open: Transport[] = []
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((t) => t.close()))
})

async function connected(options = secureOptions(), logger = capturingLogger().logger): Promise<Transport> {
  const t = kafkaTransport(options, { key: 'transports.secure', service: 'secure-test', logger })
  open.push(t)
  await t.connect()
  return t
}

describe('kafka over SASL_SSL', () => {
  for (const mechanism of ['scram-sha-512', 'scram-sha-256', 'plain'] as const) {
    it(`publishes and consumes with ${mechanism}`, async () => {
      const t = await connected(
        secureOptions({ sasl: { mechanism, username: 'omnibus', passwordFile: passwordFile('omnibus') } }),
      )
      const channel = { name: uniq('com.omnibus.secure'), kind: 'topic' as const }
      const { deliveries, handler } = recorder()
      await t.subscribe(channel, 'g', handler, { maxInFlight: 4, from: 'earliest' })
      await t.publish(channel, [event('com.omnibus.secure.ping')])
      await waitFor('the delivery', () => deliveries.length === 1)
    })
  }

  it('takes ca, cert material and the password inline too', async () => {
    const { readFileSync } = await import('node:fs')
    await connected(
      secureOptions({
        ssl: { ca: readFileSync(cert('ca.pem')), servername: 'localhost' },
        sasl: { mechanism: 'scram-sha-512', username: 'omnibus', password: password('omnibus') },
      }),
    )
  })

  it('warns when certificate checks are turned off', async () => {
    const { logger, lines } = capturingLogger()
    await connected(secureOptions({ ssl: { rejectUnauthorized: false } }), logger)
    expect(lines.filter((l) => l.includes('TLS certificate checks are OFF'))).toHaveLength(1)
  })
})

describe('kafka denies clearly and fast', () => {
  it('a wrong password: AUTH_FAILED at connect', async () => {
    const t = kafkaTransport(
      secureOptions({
        sasl: { mechanism: 'scram-sha-512', username: 'omnibus', password: 'not-the-password' },
      }),
    )
    open.push(t)
    const { error, ms } = await expectDenied(() => t.connect(), 'AUTH_FAILED')
    expect(error.message).toMatch(/\[kafka\].*user "omnibus".*SASL/)
    expect(ms).toBeLessThan(5000)
  })

  it('a broker certificate from a CA we do not trust: AUTH_FAILED at connect, no retries', async () => {
    const t = kafkaTransport(secureOptions({ ssl: { caFile: cert('rogue.pem') } }))
    open.push(t)
    const { error, ms } = await expectDenied(() => t.connect(), 'AUTH_FAILED')
    expect(error.message).toMatch(/TLS failed/)
    expect(ms).toBeLessThan(5000)
  })

  it('publishing to a topic without ACL: FORBIDDEN naming the channel', async () => {
    const t = await connected()
    const channel = { name: uniq('forbidden.topic'), kind: 'topic' as const }
    const { error, ms } = await expectDenied(
      () => t.publish(channel, [event('forbidden.topic')]),
      'FORBIDDEN',
    )
    expect(error.channel).toBe(channel.name)
    expect(error.message).toContain(`channel "${channel.name}"`)
    expect(ms).toBeLessThan(5000)
  })

  it('subscribing to a topic without ACL: FORBIDDEN naming the channel', async () => {
    const t = await connected()
    const channel = { name: uniq('forbidden.topic'), kind: 'topic' as const }
    const { error, ms } = await expectDenied(
      () => t.subscribe(channel, 'g', async () => {}, { maxInFlight: 1 }),
      'FORBIDDEN',
    )
    expect(error.channel).toBe(channel.name)
    expect(ms).toBeLessThan(5000)
  })

  it('a consumer group without ACL: FORBIDDEN naming the channel', async () => {
    const t = await connected(secureOptions({ groupPrefix: 'forbidden.' }))
    const channel = { name: uniq('com.omnibus.secure'), kind: 'topic' as const }
    const { error, ms } = await expectDenied(
      () => t.subscribe(channel, 'g', async () => {}, { maxInFlight: 1 }),
      'FORBIDDEN',
    )
    expect(error.channel).toBe(channel.name)
    expect(ms).toBeLessThan(5000)
  })

  it('stop after a denial does not hang', async () => {
    const t = await connected()
    await expectDenied(
      () => t.publish({ name: uniq('forbidden.topic'), kind: 'topic' }, [event('x.y')]),
      'FORBIDDEN',
    )
    const t0 = Date.now()
    await t.close()
    expect(Date.now() - t0).toBeLessThan(5000)
  })
})

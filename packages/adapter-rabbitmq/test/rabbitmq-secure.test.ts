import { capturingLogger, expectDenied } from '@omnibus/conformance'
import { createEvent } from '@omnibus/core/adapter'
import { afterEach, describe, expect, it } from 'vitest'
import { RabbitMQTransport, type RabbitMQTransportOptions } from '../src/index.js'
import { collector, unique, waitFor } from './helpers.js'
import { cert, certOptions, passwordFile, passwordOptions } from './secure-helpers.js'

// Against `scripts/brokers up rabbitmq-secure`: amqps only on 127.0.0.1:5671, vhost omnibus,
// users omnibus (password) and omnibus-cert (EXTERNAL) allowed com.omnibus.* and omnibus.* only.

const open: RabbitMQTransport[] = []
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((t) => t.close()))
})

function transport(options: RabbitMQTransportOptions, logger = capturingLogger().logger): RabbitMQTransport {
  const t = new RabbitMQTransport({ ...options, logger, reconnectDelayMs: 50 })
  open.push(t)
  return t
}

const event = () => createEvent({ type: 'com.omnibus.secure.ping', source: 'urn:test', data: { n: 1 } })

describe('rabbitmq over TLS', () => {
  for (const [label, options] of [
    ['mutual TLS and EXTERNAL', certOptions()],
    ['a password from a file', passwordOptions()],
  ] as const) {
    it(`publishes and consumes with ${label}`, async () => {
      const t = transport(options)
      await t.connect()
      const channel = { name: unique('com.omnibus.secure'), kind: 'topic' as const }
      const { got, handler } = collector()
      await t.subscribe(channel, 'g', handler, { maxInFlight: 4 })
      await t.publish(channel, [event()])
      await waitFor('the delivery', () => got.length === 1, 10_000)
    })
  }

  it('warns when certificate checks are turned off', async () => {
    const { logger, lines } = capturingLogger()
    await transport(passwordOptions({ tls: { rejectUnauthorized: false } }), logger).connect()
    expect(lines.filter((l) => l.includes('TLS certificate checks are OFF'))).toHaveLength(1)
  })
})

describe('rabbitmq denies clearly and fast', () => {
  const connectDenied = async (
    options: RabbitMQTransportOptions,
    code: 'AUTH_FAILED' | 'FORBIDDEN',
    pattern: RegExp,
  ) => {
    const { error, ms } = await expectDenied(() => transport(options).connect(), code)
    expect(error.message).toMatch(pattern)
    expect(error.transport).toBe('rabbitmq')
    expect(ms).toBeLessThan(5000)
  }

  it('a wrong password: AUTH_FAILED', () =>
    connectDenied(
      passwordOptions({ passwordFile: undefined, password: 'not-the-password' }),
      'AUTH_FAILED',
      /user "omnibus"/,
    ))

  it('a client certificate from a CA the broker does not trust: AUTH_FAILED', () =>
    connectDenied(
      certOptions({
        tls: { caFile: cert('ca.pem'), certFile: cert('untrusted.pem'), keyFile: cert('untrusted.key') },
      }),
      'AUTH_FAILED',
      /TLS failed/,
    ))

  it('an expired client certificate: AUTH_FAILED', () =>
    connectDenied(
      certOptions({
        tls: { caFile: cert('ca.pem'), certFile: cert('expired.pem'), keyFile: cert('expired.key') },
      }),
      'AUTH_FAILED',
      /TLS failed/,
    ))

  it('a broker certificate we do not trust: AUTH_FAILED', () =>
    connectDenied(passwordOptions({ tls: { caFile: cert('rogue.pem') } }), 'AUTH_FAILED', /TLS failed/))

  it('a vhost the user has no permission for: FORBIDDEN', () =>
    connectDenied(
      passwordOptions({ username: 'outsider', passwordFile: passwordFile('outsider') }),
      'FORBIDDEN',
      /vhost "omnibus"/,
    ))

  it('publishing to a queue without permission: FORBIDDEN naming the channel', async () => {
    const t = transport(certOptions())
    await t.connect()
    const channel = { name: unique('forbidden.queue'), kind: 'queue' as const }
    const { error, ms } = await expectDenied(() => t.publish(channel, [event()]), 'FORBIDDEN')
    expect(error.channel).toBe(channel.name)
    expect(error.message).toContain(`channel "${channel.name}"`)
    expect(ms).toBeLessThan(5000)
  })

  it('subscribing to a topic without permission: FORBIDDEN naming the channel', async () => {
    const t = transport(certOptions())
    await t.connect()
    const channel = { name: unique('forbidden.topic'), kind: 'topic' as const }
    const { error, ms } = await expectDenied(
      () => t.subscribe(channel, 'g', async () => {}, { maxInFlight: 1 }),
      'FORBIDDEN',
    )
    expect(error.channel).toBe(channel.name)
    expect(ms).toBeLessThan(5000)
    const t0 = Date.now()
    await t.close()
    expect(Date.now() - t0).toBeLessThan(5000)
  })
})

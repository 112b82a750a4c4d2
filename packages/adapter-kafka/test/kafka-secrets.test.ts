import { readFileSync } from 'node:fs'
import { LeakWatch } from '@omnibus/conformance'
import { createBus } from '@omnibus/core'
import { expect, it } from 'vitest'
import { kafkaTransport } from '../src/index.js'
import { event, uniq, waitFor } from './helpers.js'
import { cert, password, SECURE_BROKERS } from './secure-helpers.js'

// Every log line (kafkajs' own at debug included), every error with its cause chain, and every
// printed form of the transport and the bus of a secured run, searched for the secrets.
it('a secured run shows its secrets nowhere', async () => {
  const secret = password('omnibus')
  const wrong = `wrong-${secret.slice(0, 6)}-password`
  const watch = new LeakWatch()
  const ssl = { caFile: cert('ca.pem'), certFile: cert('client.pem'), keyFile: cert('client.key') }
  const sasl = { mechanism: 'scram-sha-512' as const, username: 'omnibus', password: secret }
  const options = { adapter: 'kafka', brokers: SECURE_BROKERS, ssl, sasl, logLevel: 'debug' as const }
  const type = `com.omnibus.leak.${uniq('t')}`
  const bus = await createBus({ service: 'leak', transports: { s: options }, logger: watch.logger })
  const got: unknown[] = []
  bus.on(type, async (e) => void got.push(e), { from: 'earliest' })
  bus.answer(`${type}.q`, async () => 'ok')
  await bus.start()
  await bus.publish({ type, data: { n: 1 } })
  expect(await bus.query({ type: `${type}.q`, data: {} }, { timeoutMs: 20_000 })).toBe('ok')
  await waitFor('the event', () => got.length === 1)
  watch.show(12, bus)
  await bus.stop()

  const logger = watch.logger
  await watch.failures([
    kafkaTransport({ ...options, sasl: { ...sasl, password: wrong } }, { logger }).connect(),
    (async () => {
      const t = kafkaTransport(options, { logger })
      await t.connect()
      try {
        await t.publish({ name: uniq('forbidden.leak'), kind: 'topic' }, event('x.y'))
      } finally {
        watch.show(Number.POSITIVE_INFINITY, t)
        await t.close()
      }
    })(),
    (async () => kafkaTransport({ ...options, sasl: { ...sasl, passwordFile: '/nonexistent' } }))(),
    (async () =>
      kafkaTransport({ ...options, sasl: { mechanism: 'scram-sha-512', password: secret } as never }))(),
    createBus({ service: 'leak', transports: { s: { ...options, sasl: { ...sasl, mechanism: 'nope' } } } }),
  ])
  const key = readFileSync(cert('client.key'), 'utf8').split('\n')[5]!
  watch.check([secret, wrong, key], /^debug kafkajs/)
})

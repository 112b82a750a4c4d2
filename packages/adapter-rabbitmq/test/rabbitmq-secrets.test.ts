import { readFileSync } from 'node:fs'
import { LeakWatch } from '@omnibus/conformance'
import { createBus } from '@omnibus/core'
import { createEvent } from '@omnibus/core/adapter'
import { expect, it } from 'vitest'
import { RabbitMQTransport } from '../src/index.js'
import { unique, waitFor } from './helpers.js'
import { cert, password, SECURE_URL } from './secure-helpers.js'

// Every log line, every error with its cause chain, and every printed form of the transport, its
// settings and the bus of a secured run, searched for the secrets.
it('a secured run shows its secrets nowhere', async () => {
  const secret = password('omnibus')
  const wrong = `wrong-${secret.slice(0, 6)}-password`
  const watch = new LeakWatch()
  const logger = watch.logger
  const tls = { caFile: cert('ca.pem'), certFile: cert('client.pem'), keyFile: cert('client.key') }
  // The password inline in the URL: the worst case a config can have.
  const url = SECURE_URL.replace('amqps://', `amqps://omnibus:${encodeURIComponent(secret)}@`)
  const options = { adapter: 'rabbitmq', url, tls }
  const type = `com.omnibus.leak.${unique('t')}`
  const bus = await createBus({ service: 'leak', transports: { s: options }, logger })
  const got: unknown[] = []
  bus.on(type, async (e) => void got.push(e))
  bus.answer(`${type}.q`, async () => 'ok')
  await bus.start()
  await bus.publish({ type, data: { n: 1 } })
  expect(await bus.query({ type: `${type}.q`, data: {} }, { timeoutMs: 20_000 })).toBe('ok')
  await waitFor('the event', () => got.length === 1, 10_000)
  watch.show(12, bus)
  await bus.stop()

  await watch.failures([
    new RabbitMQTransport({ url: url.replace(encodeURIComponent(secret), wrong), tls, logger }).connect(),
    (async () => {
      const t = new RabbitMQTransport({ url, tls, logger })
      await t.connect()
      try {
        const event = createEvent({ type: 'x.y', source: 'urn:test', data: {} })
        await t.publish({ name: unique('forbidden.leak'), kind: 'queue' }, [event])
      } finally {
        watch.show(Number.POSITIVE_INFINITY, t, t.settings)
        await t.close()
      }
    })(),
    (async () => new RabbitMQTransport({ url: url.replace('amqps:', 'http:'), logger }))(),
    (async () =>
      new RabbitMQTransport({ username: 'omnibus', password: secret, passwordFile: '/x', logger }))(),
    createBus({
      service: 'leak',
      transports: { s: { ...options, tls: { ...tls, keyFile: '/nonexistent' } } },
    }),
  ])
  const key = readFileSync(cert('client.key'), 'utf8').split('\n')[5]!
  watch.check([secret, encodeURIComponent(secret), wrong, key], /bus started/)
})

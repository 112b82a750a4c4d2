import { describe, expect, it } from 'vitest'
import { registerAdapter } from '../src/adapter/index.js'
import { type Bus, type BusConfig, ConfigError, configFromEnv, createBus } from '../src/index.js'
import { MemoryTransport } from '../src/transport/memory-transport.js'
import { configError, waitFor } from './helpers.js'

const base = { service: 'svc', transports: { m: { adapter: 'memory' } } }

describe('config typos and wrong types fail at createBus, naming the key', () => {
  it.each([
    [{ ...base, delivery: { maxAttempt: 5 } }, 'delivery.maxAttempt', /did you mean "maxAttempts"/],
    [{ ...base, defaultTransprt: 'm' }, 'defaultTransprt', /did you mean "defaultTransport"/],
    [
      { ...base, transports: { m: { adapter: 'memory', maxMessageBytes: 'big' } } },
      'transports.m.maxMessageBytes',
      /whole number/,
    ],
    [
      { ...base, transports: { m: { adapter: 'memory', maxMesageBytes: 10 } } },
      'transports.m.maxMesageBytes',
      /did you mean "maxMessageBytes"/,
    ],
    [
      { ...base, routes: [{ kind: 'event', transport: 'm', chanel: 'x' }] },
      'routes[0].chanel',
      /did you mean "channel"/,
    ],
    [{ ...base, routes: [{ kind: 'event', transport: 'mm' }] }, 'routes[0].transport', /did you mean "m"/],
    [{ ...base, delivery: { maxInFlight: 2.5 } }, 'delivery.maxInFlight', /whole number/],
    [{ ...base, service: 42 }, 'service', /non-empty string/],
    [{ ...base, logger: 'console' }, 'logger', /debug, info, warn and error/],
    [{ ...base, zzz: 1 }, 'zzz', /valid keys: service, source/],
  ])('%j → %s', async (config, key, message) => {
    const error = await configError(config)
    expect(error.key).toBe(key)
    expect(error.message).toMatch(message)
  })

  it.each(['queryTimeoutMs', 'stopTimeoutMs', 'initialDelayMs', 'maxDelayMs'])(
    'duration %s: finite, positive, at most 2^31-1 ms',
    async (key) => {
      for (const bad of [3e9, 2 ** 31, Number.NaN, Number.POSITIVE_INFINITY, -1, 0, '100']) {
        const error = await configError({ ...base, delivery: { [key]: bad } })
        expect(error.key).toBe(`delivery.${key}`)
        expect(error.message).toMatch(/duration in milliseconds/)
      }
      await expect(createBus({ ...base, delivery: { [key]: 2 ** 31 - 1 } })).resolves.toBeDefined()
    },
  )

  it('an adapter that throws a plain error on its options gives a ConfigError naming the transport', async () => {
    registerAdapter({
      name: 'throws-plain',
      create() {
        throw new TypeError('boom')
      },
    })
    const error = await configError({ service: 's', transports: { t: { adapter: 'throws-plain' } } })
    expect(error.key).toBe('transports.t')
    expect(error.message).toMatch(/boom/)
  })
})

describe('memory transport options from config', () => {
  it('sets retainMessages and maxMessageBytes', async () => {
    const bus: Bus = await createBus({
      service: 'svc',
      transports: { m: { adapter: 'memory', retainMessages: 5, maxMessageBytes: 2048 } },
    })
    const transport = (
      bus as unknown as { settings: { transports: Map<string, { inner: MemoryTransport }> } }
    ).settings.transports.get('m')!.inner
    expect(transport.capabilities.maxMessageBytes).toBe(2048)
    for (let i = 0; i < 8; i++)
      await transport.publish({ name: 'retain-test', kind: 'topic' }, [await event(i)])
    // A group starting from the earliest sees only the retained 5.
    const seen: number[] = []
    const sub = await transport.subscribe(
      { name: 'retain-test', kind: 'topic' },
      'late',
      async (d) => void seen.push(d.event!.data as number),
      { maxInFlight: 16, from: 'earliest' },
    )
    await waitFor('the retained messages', () => seen.length >= 5)
    await sub.close()
    expect(seen).toEqual([3, 4, 5, 6, 7])
  })
})

async function event(n: number) {
  const { createEvent } = await import('../src/envelope/envelope.js')
  return createEvent({ type: 't', source: 'urn:t', data: n })
}

describe('environment values take the type their key expects', () => {
  it('keeps strings as strings, reads numbers and lists for keys that want them', async () => {
    registerAdapter({
      name: 'typed-env',
      options: {
        clientId: { type: 'string' },
        brokers: { type: 'strings' },
        sasl: { type: 'object', options: { password: { type: 'string' } } },
        retries: { type: 'integer' },
      },
      create(options) {
        seenOptions = options
        return new MemoryTransport()
      },
    })
    let seenOptions: Record<string, unknown> = {}
    const env = {
      OMNIBUS_SERVICE: '42',
      OMNIBUS_TRANSPORTS__MY_BUS__ADAPTER: 'typed-env',
      OMNIBUS_TRANSPORTS__MY_BUS__CLIENT_ID: '007',
      OMNIBUS_TRANSPORTS__MY_BUS__BROKERS: 'a:9092, b:9092',
      OMNIBUS_TRANSPORTS__MY_BUS__SASL__PASSWORD: '123456',
      OMNIBUS_TRANSPORTS__MY_BUS__RETRIES: '5',
      OMNIBUS_DELIVERY__MAX_ATTEMPTS: '4',
      OMNIBUS_DELIVERY__QUERY_TIMEOUT_MS: '2500',
    }
    const bus = await createBus(configFromEnv(env) as unknown as BusConfig)
    expect(bus.service).toBe('42')
    expect(seenOptions).toEqual({
      clientId: '007',
      brokers: ['a:9092', 'b:9092'],
      sasl: { password: '123456' },
      retries: 5,
    })
    const routed = await createBus(
      configFromEnv({ ...env, OMNIBUS_DEFAULT_TRANSPORT: 'my_bus' }) as unknown as BusConfig,
    )
    expect(routed.service).toBe('42')
  })

  it('names the key of environment text that is not of its type', async () => {
    const env = { OMNIBUS_SERVICE: 'svc', OMNIBUS_TRANSPORTS__M__ADAPTER: 'memory' }
    const error = (() => {
      try {
        configFromEnv({ ...env, OMNIBUS_DELIVERY__MAX_ATTEMPTS: 'three' })
      } catch (e) {
        return e as ConfigError
      }
    })()
    expect(error).toBeInstanceOf(ConfigError)
    expect(error!.key).toBe('delivery.maxAttempts')
    const memoryError = await configError(
      configFromEnv({ ...env, OMNIBUS_TRANSPORTS__M__MAX_MESSAGE_BYTES: 'big' }),
    )
    expect(memoryError.key).toBe('transports.m.maxMessageBytes')
  })

  it('matches a transport name of the file whatever its case, and keeps adapters without a spec on JSON', async () => {
    const config = configFromEnv({
      OMNIBUS_CONFIG: JSON.stringify({ service: 'svc', transports: { Main: { adapter: 'memory' } } }),
      OMNIBUS_TRANSPORTS__MAIN__MAX_MESSAGE_BYTES: '4096',
    })
    expect(Object.keys(config!.transports as object)).toEqual(['Main'])
    await expect(createBus(config as unknown as BusConfig)).resolves.toBeDefined()
  })
})

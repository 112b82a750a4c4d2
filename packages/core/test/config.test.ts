import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { registerAdapter, validateConfig } from '../src/adapter/index.js'
import { ConfigError, configFromEnv, createBus, memoryTransport } from '../src/index.js'
import { configError } from './helpers.js'

describe('config', () => {
  it.each([
    [{ transports: { m: { adapter: 'memory' } } }, 'service'],
    [{ service: 'svc' }, 'transports'],
    [{ service: 'svc', transports: {} }, 'transports'],
    [{ service: 'svc', transports: { m: {} } }, 'transports.m.adapter'],
    [{ service: 'svc', transports: { m: { adapter: 'memory' } }, defaultTransport: 'x' }, 'defaultTransport'],
    [
      { service: 'svc', transports: { a: { adapter: 'memory' }, b: { adapter: 'memory' } } },
      'defaultTransport',
    ],
    [
      {
        service: 'svc',
        transports: { m: { adapter: 'memory' } },
        routes: [{ match: 'a.*', transport: 'nowhere' }],
      },
      'routes[0].transport',
    ],
    [{ service: 'svc', transports: { m: { adapter: 'memory' } }, routes: [{ transport: 'm' }] }, 'routes[0]'],
    [
      {
        service: 'svc',
        transports: { m: { adapter: 'memory' } },
        routes: [{ kind: 'signal', transport: 'm' }],
      },
      'routes[0].kind',
    ],
    [
      { service: 'svc', transports: { m: { adapter: 'memory' } }, delivery: { maxAttempts: 0 } },
      'delivery.maxAttempts',
    ],
    [{ service: 'svc', transports: { m: { adapter: 'carrier-pigeon' } } }, 'transports.m.adapter'],
  ])('rejects %j at createBus naming %s', async (config, key) => {
    const error = await configError(config)
    expect(error.key).toBe(key)
    expect(error.code).toBe('CONFIG_INVALID')
    expect(error.message).toContain(key)
  })

  it('names the unknown adapter and the ones it knows', async () => {
    const error = await configError({ service: 's', transports: { m: { adapter: 'carrier-pigeon' } } })
    expect(error.message).toMatch(/unknown adapter "carrier-pigeon".*memory.*kafka/)
  })

  it('passes options to a registered adapter, which may reject them by key', async () => {
    registerAdapter({
      name: 'strict',
      create(options, context) {
        if (typeof options.url !== 'string') throw new ConfigError(`${context.key}.url`, 'is required')
        return memoryTransport()
      },
    })
    const error = await configError({ service: 's', transports: { main: { adapter: 'strict' } } })
    expect(error.key).toBe('transports.main.url')
    await expect(
      createBus({ service: 's', transports: { main: { adapter: 'strict', url: 'x' } } }),
    ).resolves.toBeDefined()
  })

  it('reads a JSON file, and names a malformed one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'omnibus-config-'))
    const good = join(dir, 'good.json')
    writeFileSync(good, JSON.stringify({ service: 'svc', transports: { m: { adapter: 'memory' } } }))
    expect((await createBus(good)).service).toBe('svc')
    const bad = join(dir, 'bad.json')
    writeFileSync(bad, '{ "service": ')
    const error = await configError(bad)
    expect(error.key).toBe('file')
    expect(error.message).toContain(bad)
    expect((await configError(join(dir, 'missing.json'))).message).toMatch(/cannot read/)
  })

  it('builds a config from environment variables, over a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'omnibus-env-'))
    const file = join(dir, 'base.json')
    writeFileSync(file, JSON.stringify({ service: 'base', transports: { events: { adapter: 'memory' } } }))
    const config = configFromEnv({
      OMNIBUS_CONFIG: file,
      OMNIBUS_SERVICE: 'inventory',
      OMNIBUS_TRANSPORTS__EVENTS__ADAPTER: 'kafka',
      OMNIBUS_TRANSPORTS__EVENTS__BROKERS: '["127.0.0.1:9092"]',
      OMNIBUS_DEFAULT_TRANSPORT: 'events',
      OMNIBUS_DELIVERY__MAX_ATTEMPTS: '5',
      OMNIBUS_UNRELATED: 'ignored',
    })
    // A transport's options stay text until the adapter's declared types are known, at createBus.
    expect(config).toEqual({
      service: 'inventory',
      transports: { events: { adapter: 'kafka', brokers: '["127.0.0.1:9092"]' } },
      defaultTransport: 'events',
      delivery: { maxAttempts: 5 },
    })
    expect(validateConfig(config)).toMatchObject({ service: 'inventory', delivery: { maxAttempts: 5 } })
  })

  it('rejects inline JSON that does not parse', () => {
    expect(() => configFromEnv({ OMNIBUS_CONFIG: '{ nope' })).toThrow(/OMNIBUS_CONFIG: is not valid JSON/)
  })
})

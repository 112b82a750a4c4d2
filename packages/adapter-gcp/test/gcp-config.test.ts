import { ConfigError, createBus, silentLogger } from '@omnibus/core'
import { describe, expect, it } from 'vitest'
import { adapter, gcpTransport } from '../src/index.js'

describe('gcp options', () => {
  const context = { key: 'transports.main', service: 'svc', logger: silentLogger }

  it.each([
    [{ mode: 'json' }, 'transports.main.mode'],
    [{ retentionSeconds: 60 }, 'transports.main.retentionSeconds'],
    [{ namePrefix: '1x' }, 'transports.main.namePrefix'],
    [{ namePrefix: 'google-' }, 'transports.main.namePrefix'],
    [{ batching: { maxMessages: 5000 } }, 'transports.main.batching.maxMessages'],
    [{ provision: 'yes' }, 'transports.main.provision'],
    [{ credentials: { client_email: 'x' } }, 'transports.main.credentials'],
    [{ projectId: '' }, 'transports.main.projectId'],
  ])('rejects %j naming %s', (options, key) => {
    const attempt = () => adapter.create(options as never, context)
    expect(attempt).toThrow(ConfigError)
    expect(attempt).toThrow(key)
  })

  it('states its capabilities: emulator vs real Pub/Sub', () => {
    const emulated = gcpTransport({ emulatorHost: '127.0.0.1:8085', projectId: 'p' })
    expect(emulated.capabilities).toMatchObject({
      ordering: true,
      replay: false,
      maxMessageBytes: 10_000_000,
      durableAcrossRestart: false,
    })
    expect(emulated.capabilities.notes?.replay).toMatch(/emulator/)
    const real = gcpTransport({ apiEndpoint: 'pubsub.googleapis.com:443', projectId: 'p' })
    expect(real.capabilities).toMatchObject({ replay: true, durableAcrossRestart: true })
    expect(
      gcpTransport({ apiEndpoint: 'pubsub.googleapis.com:443', retentionSeconds: 0 }).capabilities.replay,
    ).toBe(false)
  })

  it('is loaded by name from a bus config', async () => {
    const bus = await createBus({
      service: 'svc',
      transports: { main: { adapter: 'gcp', projectId: 'p', emulatorHost: '127.0.0.1:8085' } },
    })
    expect(bus).toBeDefined()
    await expect(
      createBus({ service: 'svc', transports: { main: { adapter: 'gcp', mode: 'xml' } } }),
    ).rejects.toThrow('transports.main.mode')
  })
})

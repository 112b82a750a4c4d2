import { readdirSync, readFileSync } from 'node:fs'
import { ConfigError, createBus } from '@omnibus/core'
import { describe, expect, it } from 'vitest'

// createBus builds transports without connecting, so no broker is needed here.
const configs = new URL('../config/', import.meta.url)

describe('adapter options', () => {
  it.each(readdirSync(configs).filter((f) => f.endsWith('.json')))(
    'the example config %s is accepted',
    async (file) => {
      // The example gives each service its name; the files leave it out.
      const config = JSON.parse(readFileSync(new URL(file, configs), 'utf8'))
      const bus = await createBus({ service: 'example', ...config })
      await bus.stop()
    },
  )

  it.each([
    ['kafka', { brokers: ['127.0.0.1:9092'], clientld: 'x' }, 'clientld', 'clientId'],
    ['rabbitmq', { url: 'amqp://127.0.0.1', prefetc: 3 }, 'prefetc', 'prefetch'],
    ['aws', { regin: 'eu-west-1' }, 'regin', 'region'],
    ['gcp', { projectld: 'p' }, 'projectld', 'projectId'],
  ])('%s refuses a mistyped option, naming the nearest valid one', async (adapter, options, typo, near) => {
    const made = createBus({ service: 's', transports: { main: { adapter, ...options } } })
    await expect(made).rejects.toBeInstanceOf(ConfigError)
    await expect(made).rejects.toMatchObject({ key: `transports.main.${typo}` })
    await expect(made).rejects.toThrow(`did you mean "${near}"?`)
  })
})

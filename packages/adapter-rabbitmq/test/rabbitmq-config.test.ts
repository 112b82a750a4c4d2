import { describe, expect, test } from 'vitest'
import { connectArguments, resolveSettings } from '../src/rabbitmq-config.js'

describe('rabbitmq connect arguments', () => {
  test('turn Nagle off so a lone publish or ack is not held for the delayed ACK', () => {
    const { socketOptions } = connectArguments(resolveSettings({}, 'main'))
    expect(socketOptions.noDelay).toBe(true)
  })

  test('socketOptions given by the user win', () => {
    const settings = resolveSettings({ socketOptions: { noDelay: false, servername: 'mq' } }, 'main')
    expect(connectArguments(settings).socketOptions).toMatchObject({ noDelay: false, servername: 'mq' })
  })
})

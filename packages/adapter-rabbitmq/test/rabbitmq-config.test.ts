import { describe, expect, test } from 'vitest'
import { parseRabbitMQConfig } from '../src/rabbitmq-config.js'

describe('rabbitmq socket options', () => {
  test('turn Nagle off so a lone publish or ack is not held for the delayed ACK', () => {
    const { socketOptions } = parseRabbitMQConfig({}, 'main')
    expect(socketOptions.noDelay).toBe(true)
  })

  test('socketOptions given by the user win', () => {
    const settings = parseRabbitMQConfig({ socketOptions: { noDelay: false, servername: 'mq' } }, 'main')
    expect(settings.socketOptions).toMatchObject({ noDelay: false, servername: 'mq' })
  })
})

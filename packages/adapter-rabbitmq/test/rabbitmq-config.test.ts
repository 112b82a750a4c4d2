import { describe, expect, test } from 'vitest'
import { connectArguments, parseRabbitMQConfig } from '../src/rabbitmq-config.js'

describe('rabbitmq connect arguments', () => {
  test('turn Nagle off so a lone publish or ack is not held for the delayed ACK', () => {
    const { socketOptions } = connectArguments(parseRabbitMQConfig({}, 'main'))
    expect(socketOptions.noDelay).toBe(true)
  })

  test('socketOptions given by the user win', () => {
    const settings = parseRabbitMQConfig({ socketOptions: { noDelay: false, servername: 'mq' } }, 'main')
    expect(connectArguments(settings).socketOptions).toMatchObject({ noDelay: false, servername: 'mq' })
  })
})

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

describe('rabbitmq management API credentials (backlog)', () => {
  const basic = (user: string, password: string) =>
    `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`

  test("are the connection's user and password, from the URL or the options; none with EXTERNAL", () => {
    const fromUrl = parseRabbitMQConfig({ url: 'amqp://ann:s%3Acret@mq:5672/' }, 'main').auth
    expect(fromUrl.mechanism === 'PLAIN' && fromUrl.basic()).toBe(basic('ann', 's:cret'))
    const fromOptions = parseRabbitMQConfig({ username: 'bob', password: 'pw' }, 'main').auth
    expect(fromOptions.mechanism === 'PLAIN' && fromOptions.basic()).toBe(basic('bob', 'pw'))
    // Kept in a closure: the settings print without the password.
    expect(JSON.stringify(parseRabbitMQConfig({ username: 'bob', password: 'pw' }, 'main'))).not.toContain(
      'pw',
    )
  })
})

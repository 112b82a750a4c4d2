import { ConfigError } from '@omnibus/core'
import { createEvent } from '@omnibus/core/adapter'
import { expect, it } from 'vitest'
import { parseRabbitMQConfig, rabbitmqTransport } from '../../src/index.js'
import { collector, unique, waitFor } from '../helpers.js'
import { CLUSTER_NODES, CLUSTER_URL } from './cluster.js'

it('`nodes`: with `url` refusing connections, the transport connects to the next node and works', async () => {
  const url = new URL(CLUSTER_URL)
  url.port = '1' // nothing listens there: refused at once
  const t = rabbitmqTransport({ url: url.toString(), nodes: CLUSTER_NODES })
  await t.connect()
  try {
    const channel = { name: unique('nodes'), kind: 'topic' as const }
    const { events, handler } = collector()
    const sub = await t.subscribe(channel, 'g', handler, { maxInFlight: 8 })
    await t.publish(channel, [createEvent({ type: 'com.test.nodes', source: '/t', data: 1 })])
    await waitFor('the event delivered', () => events().length === 1, 20_000)
    await sub.close()
  } finally {
    await t.close()
  }
})

it('`nodes` takes host:port only, naming the bad entry', () => {
  const parse = (nodes: string[]) =>
    parseRabbitMQConfig({ url: 'amqp://u:p@a:5672/v', nodes }, 'transports.mq')
  expect(parse(['b:5673', 'c:5674']).urls).toEqual(['amqp://a:5672/v', 'amqp://b:5673/v', 'amqp://c:5674/v'])
  for (const bad of ['b', 'b:99999', 'amqp://b:5673', 'u@b:5673', 'b:5673/x']) {
    expect(() => parse(['b:5673', bad]), bad).toThrow(ConfigError)
    expect(() => parse(['b:5673', bad]), bad).toThrow(/transports\.mq\.nodes\[1\].*host:port/)
  }
})

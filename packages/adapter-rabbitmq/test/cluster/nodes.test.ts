import { capturingLogger } from '@omnibus/conformance'
import { ConfigError, type OmnibusError } from '@omnibus/core'
import { createEvent } from '@omnibus/core/adapter'
import { expect, it } from 'vitest'
import { parseRabbitMQConfig, rabbitmqTransport } from '../../src/index.js'
import { collector, unique, waitFor } from '../helpers.js'
import { CLUSTER_NODES, CLUSTER_URL, ctl } from './cluster.js'

it('`nodes`: a reconnect goes round them, past one that refuses, and the transport works on the next', async () => {
  const { logger, lines } = capturingLogger()
  const nodes = ['127.0.0.1:1', ...CLUSTER_NODES] // nothing listens on port 1: refused at once
  const t = rabbitmqTransport({ url: CLUSTER_URL, nodes, reconnectMaxDelayMs: 500, logger })
  await t.connect()
  try {
    const channel = { name: unique('nodes'), kind: 'topic' as const }
    const { events, handler } = collector()
    const sub = await t.subscribe(channel, 'g', handler, { maxInFlight: 8 })
    const publish = () => t.publish(channel, [createEvent({ type: 'com.test.nodes', source: '/t', data: 1 })])
    await publish()
    await waitFor('the first event delivered', () => events().length === 1, 20_000)
    await ctl(1, 'close_all_connections', 'the nodes test') // node 1 drops every client
    const said = (text: string) => lines.filter((l) => l.startsWith(`${text}`))
    await waitFor('reconnected', () => said('info [rabbitmq] reconnected').length === 1, 30_000)
    await publish()
    await waitFor('the second event delivered', () => events().length === 2, 20_000)
    // Within one attempt: past the refusing node to the next, no backoff in between.
    expect(said('debug [rabbitmq] node unreachable').join('\n')).toMatch(
      /"node":"127\.0\.0\.1:1".*ECONNREFUSED/,
    )
    expect(said('debug [rabbitmq] reconnect attempt failed')).toEqual([])
    await sub.close()
  } finally {
    await t.close()
  }
})

it('`nodes`: connect goes round them too when the `url` node is down, and fails naming every node when all are', async () => {
  const down = 'amqp://guest:guest@127.0.0.1:1' // nothing listens on port 1
  const t = rabbitmqTransport({ url: down, nodes: CLUSTER_NODES })
  await t.connect()
  try {
    const channel = { name: unique('nodes-start'), kind: 'topic' as const }
    const { events, handler } = collector()
    const sub = await t.subscribe(channel, 'g', handler, { maxInFlight: 8 })
    await t.publish(channel, [createEvent({ type: 'com.test.nodes', source: '/t', data: 1 })])
    await waitFor('the event delivered', () => events().length === 1, 20_000)
    await sub.close()
  } finally {
    await t.close()
  }
  const none = rabbitmqTransport({ url: down, nodes: ['127.0.0.1:2'] })
  const failure = await none.connect().then(
    () => undefined,
    (error: unknown) => error as OmnibusError,
  )
  expect(failure?.code).toBe('TRANSPORT_UNAVAILABLE')
  expect(failure?.message).toMatch(/cannot connect to amqp:\/\/127\.0\.0\.1:1 or amqp:\/\/127\.0\.0\.1:2;/)
  await none.close()
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

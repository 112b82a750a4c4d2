import { OmnibusError } from '@omnibus/core'
import type { Channel } from '@omnibus/core/adapter'

/** How one transport of a config appears in AsyncAPI: its server(s), addresses, bindings and CloudEvents encoding. */
export interface Binder {
  readonly servers: Record<string, { host: string; protocol: string; description: string }>
  /** The server a channel of this kind lives on. */
  server(channel: Channel): string
  /** The broker's name for the channel (what the adapter creates or publishes to). */
  address(channel: Channel): string
  channelBindings(channel: Channel): Record<string, unknown>
  /** Where a group receives from, as the adapter names it: operation bindings and a plain description. */
  receive(channel: Channel, group: string): { bindings?: Record<string, unknown>; where: string }
  /** `binary`: attributes as headers with this prefix; `structured`: the whole CloudEvent as a JSON body. */
  readonly encoding: { mode: 'binary'; prefix: string } | { mode: 'structured' }
}

type Options = Record<string, unknown>

/** Adapters are loaded by name, as createBus does: only those the config uses need installing. */
async function load<T>(pkg: string, adapter: string): Promise<T> {
  try {
    return (await import(pkg)) as T
  } catch (error) {
    throw new OmnibusError(
      'ADAPTER_NOT_FOUND',
      `the config uses the ${adapter} adapter; install ${pkg} so its channel names can be documented`,
      { cause: error },
    )
  }
}

const mode = (options: Options): 'binary' | 'structured' =>
  options.mode === 'structured' ? 'structured' : 'binary'

function encoding(options: Options, prefix: string): Binder['encoding'] {
  return mode(options) === 'structured' ? { mode: 'structured' } : { mode: 'binary', prefix }
}

async function kafka(name: string, options: Options): Promise<Binder> {
  const k = await load<{
    topicName(channel: string): string
    groupIdFor(prefix: string, channel: Channel, group: string, topic: string): string
    CE_PREFIX: string
  }>('@omnibus/adapter-kafka', 'kafka')
  const brokers = Array.isArray(options.brokers) ? options.brokers : String(options.brokers ?? '').split(',')
  const groupPrefix = typeof options.groupPrefix === 'string' ? options.groupPrefix : 'omnibus.'
  return {
    servers: {
      [name]: { host: brokers.join(','), protocol: 'kafka', description: `transport "${name}" (kafka)` },
    },
    server: () => name,
    address: (channel) => k.topicName(channel.name),
    channelBindings: (channel) => ({ kafka: { topic: k.topicName(channel.name), bindingVersion: '0.5.0' } }),
    receive(channel, group) {
      const groupId = k.groupIdFor(groupPrefix, channel, group, k.topicName(channel.name))
      return {
        bindings: { kafka: { groupId: { type: 'string', enum: [groupId] }, bindingVersion: '0.5.0' } },
        where: `consumer group ${groupId}`,
      }
    },
    encoding: encoding(options, k.CE_PREFIX),
  }
}

function amqpHost(options: Options): string {
  if (typeof options.url === 'string') {
    const url = new URL(options.url)
    return `${url.host}${url.pathname.length > 1 ? url.pathname : ''}` // never the credentials
  }
  return `${options.host ?? '127.0.0.1'}:${options.port ?? (options.tls ? 5671 : 5672)}`
}

async function rabbitmq(name: string, options: Options): Promise<Binder> {
  const r = await load<{ groupQueueName(channel: string, group: string): string; HEADER_PREFIX: string }>(
    '@omnibus/adapter-rabbitmq',
    'rabbitmq',
  )
  const vhost =
    typeof options.url === 'string'
      ? decodeURIComponent(new URL(options.url).pathname.slice(1)) || '/'
      : String(options.vhost ?? '/')
  const queue = (queueName: string) => ({
    name: queueName,
    durable: true,
    exclusive: false,
    autoDelete: false,
    vhost,
  })
  return {
    servers: {
      [name]: { host: amqpHost(options), protocol: 'amqp', description: `transport "${name}" (rabbitmq)` },
    },
    server: () => name,
    address: (channel) => channel.name,
    channelBindings: (channel) =>
      channel.kind === 'topic'
        ? {
            amqp: {
              is: 'routingKey',
              exchange: { name: channel.name, type: 'topic', durable: true, autoDelete: false, vhost },
              bindingVersion: '0.3.0',
            },
          }
        : { amqp: { is: 'queue', queue: queue(channel.name), bindingVersion: '0.3.0' } },
    receive(channel, group) {
      const where = channel.kind === 'topic' ? r.groupQueueName(channel.name, group) : channel.name
      return {
        where: `queue ${where}${channel.kind === 'topic' ? ` bound to exchange ${channel.name} with #` : ''}`,
      }
    },
    encoding: encoding(options, r.HEADER_PREFIX),
  }
}

async function aws(name: string, options: Options): Promise<Binder> {
  const a = await load<{
    resourceName(prefix: string, name: string, fifo: boolean): string
    groupQueueName(prefix: string, channel: string, group: string, fifo: boolean): string
  }>('@omnibus/adapter-aws', 'aws')
  const prefix = typeof options.namePrefix === 'string' ? options.namePrefix : ''
  const fifo = (channel: Channel) =>
    options.fifo === true || (Array.isArray(options.fifo) && options.fifo.includes(channel.name))
  const region = typeof options.region === 'string' ? options.region : 'us-east-1'
  const host = (service: string) =>
    typeof options.endpoint === 'string'
      ? new URL(options.endpoint).host
      : `${service}.${region}.amazonaws.com`
  const sqsQueue = (queueName: string, channel: Channel) => ({ name: queueName, fifoQueue: fifo(channel) })
  return {
    servers: {
      [`${name}-sns`]: {
        host: host('sns'),
        protocol: 'sns',
        description: `transport "${name}" (aws): SNS topics for events`,
      },
      [`${name}-sqs`]: {
        host: host('sqs'),
        protocol: 'sqs',
        description: `transport "${name}" (aws): SQS queues`,
      },
    },
    server: (channel) => `${name}-${channel.kind === 'topic' ? 'sns' : 'sqs'}`,
    address: (channel) => a.resourceName(prefix, channel.name, fifo(channel)),
    channelBindings: (channel) => {
      const resource = a.resourceName(prefix, channel.name, fifo(channel))
      return channel.kind === 'topic'
        ? {
            sns: {
              name: resource,
              ordering: { type: fifo(channel) ? 'FIFO' : 'standard' },
              bindingVersion: '0.1.0',
            },
          }
        : { sqs: { queue: sqsQueue(resource, channel), bindingVersion: '0.2.0' } }
    },
    receive(channel, group) {
      if (channel.kind === 'queue')
        return { where: `SQS queue ${a.resourceName(prefix, channel.name, fifo(channel))}` }
      const queueName = a.groupQueueName(prefix, channel.name, group, fifo(channel))
      return {
        bindings: { sqs: { queues: [sqsQueue(queueName, channel)], bindingVersion: '0.2.0' } },
        where: `SQS queue ${queueName} subscribed to the SNS topic (raw message delivery)`,
      }
    },
    // SQS carries 10 message attributes at most: the adapter always sends structured CloudEvents.
    encoding: { mode: 'structured' },
  }
}

async function gcp(name: string, options: Options): Promise<Binder> {
  const g = await load<{
    resourceName(prefix: string, parts: readonly string[]): string
    ATTRIBUTE_PREFIX: string
  }>('@omnibus/adapter-gcp', 'gcp')
  const prefix = typeof options.namePrefix === 'string' ? options.namePrefix : ''
  const topic = (channel: Channel) => g.resourceName(prefix, [channel.name])
  const host =
    typeof options.emulatorHost === 'string'
      ? options.emulatorHost
      : typeof options.apiEndpoint === 'string'
        ? options.apiEndpoint
        : 'pubsub.googleapis.com'
  return {
    servers: { [name]: { host, protocol: 'googlepubsub', description: `transport "${name}" (gcp)` } },
    server: () => name,
    address: topic,
    // The googlepubsub channel binding requires schemaSettings (a schema kept by Pub/Sub itself), which
    // Omnibus does not use: the topic name is the address, the subscriptions are in the receive operations.
    channelBindings: () => ({}),
    receive(channel, group) {
      // As the adapter does: a queue has one subscription named like its topic; a group has its own.
      const subscription =
        channel.kind === 'queue' ? topic(channel) : g.resourceName(prefix, [channel.name, group])
      return { where: `subscription ${subscription}` }
    },
    encoding: encoding(options, g.ATTRIBUTE_PREFIX),
  }
}

function memory(name: string): Binder {
  return {
    servers: {
      [name]: { host: 'in-process', protocol: 'omnibus-memory', description: `transport "${name}" (memory)` },
    },
    server: () => name,
    address: (channel) => channel.name,
    channelBindings: () => ({}),
    receive: (channel, group) => ({ where: `group ${channel.kind === 'queue' ? channel.name : group}` }),
    encoding: { mode: 'structured' },
  }
}

/** The binder of one configured transport. */
export async function binderFor(name: string, spec: Options): Promise<Binder> {
  const { adapter, ...options } = spec
  switch (adapter) {
    case 'kafka':
      return kafka(name, options)
    case 'rabbitmq':
      return rabbitmq(name, options)
    case 'aws':
      return aws(name, options)
    case 'gcp':
      return gcp(name, options)
    case 'memory':
      return memory(name)
    default:
      throw new OmnibusError(
        'ADAPTER_NOT_FOUND',
        `transports.${name}.adapter: ${JSON.stringify(adapter)} is not one the AsyncAPI generator knows (kafka, rabbitmq, aws, gcp, memory)`,
      )
  }
}

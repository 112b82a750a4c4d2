import { OmnibusError } from '@omnibus/core'
import type { Channel } from '@omnibus/core/adapter'
import type { Channel as AmqpChannel, ChannelModel } from 'amqplib'
import type { RabbitMQSettings } from './rabbitmq-config.js'
import type { Link } from './rabbitmq-connection.js'
import { errorMessage, replyCode } from './rabbitmq-errors.js'

/**
 * Topology. A topic channel is a durable topic exchange of the same name; a
 * group is a durable queue `<channel>::<group>` bound to it with `#` (the `::`
 * keeps a group named `dlq` from meeting the dead-letter queue `<channel>.dlq`).
 * A queue channel is a durable queue of the channel's name, reached through the
 * default exchange. Declarations are remembered per connection, so a restarted
 * broker that lost something gets it declared again.
 */
export const groupQueueName = (channel: string, group: string): string => `${channel}::${group}`

/** Unused reply queues (their instance crashed) disappear after this long without consumers. */
export const TEMPORARY_QUEUE_EXPIRES_MS = 60_000

const NOT_FOUND = 404
const RESOURCE_LOCKED = 405
const PRECONDITION_FAILED = 406
const ACCESS_REFUSED = 403

const codeOf = replyCode

export class Provisioner {
  private readonly done = new Map<string, Promise<void>>()
  private generation = -1

  constructor(
    private readonly link: Link,
    private readonly settings: RabbitMQSettings,
  ) {}

  /** Arguments of every durable queue we declare; the publisher and the consumer side must agree on them. */
  get queueArguments(): Record<string, unknown> {
    const args: Record<string, unknown> = {}
    if (this.settings.quorum) args['x-queue-type'] = 'quorum'
    if (this.settings.singleActiveConsumer) args['x-single-active-consumer'] = true
    return args
  }

  /** What a publish to `channel` needs: the exchange, or the queue so that messages wait in it. */
  async forPublish(model: ChannelModel, channel: Channel): Promise<void> {
    if (channel.kind === 'topic')
      return this.once(model, `x:${channel.name}`, (ch) => this.exchange(ch, channel.name))
    // The queue may exist with other arguments (a reply queue, one declared by hand): look before declaring.
    if (!this.settings.declare)
      return this.once(model, `q:${channel.name}`, (ch) => this.queue(ch, channel.name, false))
    return this.once(model, `q:${channel.name}`, async () => {
      if (await this.exists(model, channel.name)) return
      await this.scratch(model, (ch) => this.queue(ch, channel.name, false))
    })
  }

  /** Forgets what was declared, e.g. after a channel error that may mean something was deleted. */
  forget(): void {
    this.done.clear()
  }

  /** The queue a member of `group` consumes, declared (and bound) as needed; returns its name. */
  async forConsume(model: ChannelModel, channel: Channel, group: string, temporary = false): Promise<string> {
    if (channel.kind === 'queue') {
      await this.once(model, `q:${channel.name}`, (ch) => this.queue(ch, channel.name, temporary))
      return channel.name
    }
    const queue = groupQueueName(channel.name, group)
    await this.once(model, `g:${queue}`, async (ch) => {
      await this.exchange(ch, channel.name)
      await this.queue(ch, queue, temporary)
      if (this.settings.declare) await ch.bindQueue(queue, channel.name, '#')
    })
    return queue
  }

  /** Deletes a temporary queue (a reply queue whose subscriber closed). */
  async remove(model: ChannelModel, queue: string): Promise<void> {
    this.done.delete(`q:${queue}`)
    await this.scratch(model, async (ch) => {
      await ch.deleteQueue(queue)
    })
  }

  private async exchange(ch: AmqpChannel, name: string): Promise<void> {
    if (!this.settings.declare) await this.check(() => ch.checkExchange(name), 'exchange', name)
    else await ch.assertExchange(name, 'topic', { durable: true })
  }

  private async queue(ch: AmqpChannel, name: string, temporary: boolean): Promise<void> {
    if (temporary) {
      // A reply queue: non-durable and expiring rather than exclusive, so that it survives a short
      // connection drop with its replies in it, and any connection may check that it exists.
      await ch.assertQueue(name, { durable: false, arguments: { 'x-expires': TEMPORARY_QUEUE_EXPIRES_MS } })
    } else if (!this.settings.declare) {
      await this.check(() => ch.checkQueue(name), 'queue', name)
    } else {
      await ch.assertQueue(name, { durable: true, arguments: this.queueArguments })
    }
  }

  private async check(op: () => Promise<unknown>, what: string, name: string): Promise<void> {
    try {
      await op()
    } catch (error) {
      if (codeOf(error) !== NOT_FOUND) throw error
      throw new OmnibusError(
        'CHANNEL_NOT_FOUND',
        `[omnibus] [rabbitmq] ${what} "${name}" does not exist and declaring is off (declare: false): ` +
          `create it (topic exchange for events, durable queue "<channel>::<group>" bound with "#" for a group, ` +
          'durable queue for commands) or set declare: true',
        { cause: error },
      )
    }
  }

  private async exists(model: ChannelModel, queue: string): Promise<boolean> {
    try {
      await this.scratch(model, (ch) => ch.checkQueue(queue))
      return true
    } catch (error) {
      if (error instanceof OmnibusError && codeOf(error.cause) === NOT_FOUND) return false
      if (error instanceof OmnibusError && codeOf(error.cause) === RESOURCE_LOCKED) return true
      throw error
    }
  }

  /** Runs `key`'s declaration once per connection; a failure is forgotten so the next call tries again. */
  private once(model: ChannelModel, key: string, declare: (ch: AmqpChannel) => Promise<void>): Promise<void> {
    if (this.generation !== this.link.generation) {
      this.done.clear()
      this.generation = this.link.generation
    }
    let pending = this.done.get(key)
    if (!pending) {
      pending = this.scratch(model, declare)
      pending.catch(() => this.done.delete(key))
      this.done.set(key, pending)
    }
    return pending
  }

  /**
   * A server-side error (404 on a passive check, 406 on mismatched arguments)
   * closes the AMQP channel it happened on, so declarations run on a channel of
   * their own that is thrown away afterwards.
   */
  private async scratch<T>(model: ChannelModel, work: (ch: AmqpChannel) => Promise<T>): Promise<T> {
    let ch: AmqpChannel
    try {
      ch = await model.createChannel()
    } catch (error) {
      throw provisioningError('cannot open a channel to declare topology', error)
    }
    ch.on('error', () => undefined)
    try {
      return await work(ch)
    } catch (error) {
      if (error instanceof OmnibusError) throw error
      const code = codeOf(error)
      if (code === PRECONDITION_FAILED) {
        throw provisioningError(
          'an exchange or queue exists with other settings (classic vs quorum, single active consumer, durability); ' +
            'delete it or make the options match',
          error,
        )
      }
      if (code === ACCESS_REFUSED)
        throw provisioningError('the user may not declare or read this resource', error)
      throw provisioningError('declaring topology failed', error)
    } finally {
      await ch.close().catch(() => undefined)
    }
  }
}

function provisioningError(what: string, cause: unknown): OmnibusError {
  const code = codeOf(cause) === NOT_FOUND ? 'CHANNEL_NOT_FOUND' : 'PROVISIONING_FAILED'
  return new OmnibusError(code, `[omnibus] [rabbitmq] ${what}: ${errorMessage(cause)}`, { cause })
}

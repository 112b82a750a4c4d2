import {
  adapterError,
  type Channel,
  errorIs,
  KnownGroups,
  PromiseCache,
  provisioningFailure,
} from '@omnibus/core/adapter'
import type { Channel as AmqpChannel, ChannelModel } from 'amqplib'
import type { RabbitMQSettings } from './rabbitmq-config.js'

/**
 * Topology. A topic channel is a durable topic exchange of the same name; a group is a durable
 * queue `<channel>::<group>` bound to it with `#` (the `::` keeps a group named `dlq` from meeting
 * the dead-letter queue `<channel>.dlq`). A queue channel is a durable queue of the channel's
 * name, reached through the default exchange. Declarations are remembered per connection, so a
 * restarted broker that lost something gets it declared again.
 */
export const groupQueueName = (channel: string, group: string): string => `${channel}::${group}`

/** Unused reply queues (their instance crashed) disappear after this long without consumers. */
export const TEMPORARY_QUEUE_EXPIRES_MS = 60_000

export class RabbitMQProvisioner {
  /** What was declared on the current connection, cleared when the broker may have lost some of it. */
  readonly declared = new PromiseCache<void>()
  /**
   * The groups this transport declared or consumed, per topic channel: a publish declares them again,
   * and one that no queue takes while a group is known means that group's queue vanished.
   */
  readonly groups = new KnownGroups()

  constructor(private readonly settings: RabbitMQSettings) {}

  /**
   * The arguments of durable queue `queue` of `channel`; the publisher and the consumer side must agree
   * on them. A quorum queue delivers a message at most deliveryLimit + 1 times: the delivery at which
   * core (count > maxDeliveries) dead-letters it with its reason. Only what core could not dead-letter
   * then is dead-lettered by the broker, into the same `<channel>.dlq` (core's deadLetterChannel).
   */
  queueArguments(channel: string, queue: string): Record<string, unknown> {
    const args: Record<string, unknown> = {}
    if (this.settings.singleActiveConsumer) args['x-single-active-consumer'] = true
    if (!this.settings.isQuorum(channel, queue)) return args
    args['x-queue-type'] = 'quorum'
    if (channel.endsWith('.dlq')) return args // a dead-letter queue keeps its letters, however often read
    args['x-delivery-limit'] = this.settings.deliveryLimit
    args['x-dead-letter-exchange'] = ''
    args['x-dead-letter-routing-key'] = `${channel}.dlq`
    return args
  }

  /** What a publish to `channel` needs: the exchange, or the queue so that messages wait in it. */
  async forPublish(model: ChannelModel, channel: Channel): Promise<void> {
    const { name } = channel
    if (channel.kind === 'topic') {
      await this.exchangeOf(model, name)
      for (const group of this.groups.of(name)) await this.forConsume(model, channel, group)
      return
    }
    await this.deadLetterQueueOf(model, name, name)
    // The queue may exist with other arguments (406) or be exclusive to another connection (405): use it.
    return this.once(model, `q:${name}`, `durable queue "${name}" of channel "${name}"`, (ch) =>
      this.queue(ch, name, name, false).catch((error: unknown) => {
        if (!this.settings.declare || !errorIs(error, 405, 406)) throw error
      }),
    )
  }

  /** The topic exchange of channel `name`. */
  private exchangeOf(model: ChannelModel, name: string): Promise<void> {
    return this.once(model, `x:${name}`, `topic exchange "${name}" of channel "${name}"`, async (ch) => {
      if (!this.settings.declare) await ch.checkExchange(name)
      else await ch.assertExchange(name, 'topic', { durable: true })
    })
  }

  /** The broker drops what it dead-letters to a queue that does not exist: a quorum queue's comes first. */
  private async deadLetterQueueOf(model: ChannelModel, channel: string, queue: string): Promise<void> {
    const dlq = this.settings.declare && this.queueArguments(channel, queue)['x-dead-letter-routing-key']
    if (typeof dlq === 'string') await this.forPublish(model, { name: dlq, kind: 'queue' })
  }

  /** The queue a member of `group` consumes, declared (and bound) as needed; returns its name. */
  async forConsume(model: ChannelModel, channel: Channel, group: string, temporary = false): Promise<string> {
    const { name } = channel
    const queue = channel.kind === 'queue' ? name : groupQueueName(name, group)
    if (!temporary) await this.deadLetterQueueOf(model, name, queue)
    const kind = temporary ? 'temporary queue' : 'durable queue'
    if (channel.kind === 'queue') {
      await this.once(model, `q:${name}`, `${kind} "${name}" of channel "${name}"`, (ch) =>
        this.queue(ch, name, name, temporary),
      )
      return name
    }
    await this.exchangeOf(model, name)
    const what = `queue "${queue}" of group "${group}" on channel "${name}" (a ${kind} bound to exchange "${name}" with "#")`
    await this.once(model, `g:${queue}`, what, async (ch) => {
      await this.queue(ch, name, queue, temporary)
      if (this.settings.declare) await ch.bindQueue(queue, name, '#')
    })
    if (!temporary) this.groups.add(name, group, group)
    return queue
  }

  /** Deletes a temporary queue (a reply queue whose subscriber closed). */
  async remove(model: ChannelModel, queue: string): Promise<void> {
    this.declared.forget(`q:${queue}`)
    await this.scratch(model, `temporary queue "${queue}"`, (ch) => ch.deleteQueue(queue))
  }

  private async queue(ch: AmqpChannel, channel: string, name: string, temporary: boolean): Promise<void> {
    // A reply queue: non-durable and expiring rather than exclusive, so that it survives a short
    // connection drop with its replies in it, and any connection may check that it exists.
    if (temporary)
      await ch.assertQueue(name, { durable: false, arguments: { 'x-expires': TEMPORARY_QUEUE_EXPIRES_MS } })
    else if (!this.settings.declare) await ch.checkQueue(name)
    else await ch.assertQueue(name, { durable: true, arguments: this.queueArguments(channel, name) })
  }

  /** Runs `key`'s declaration of `what` once per connection; a failure is forgotten so the next call tries again. */
  private once(model: ChannelModel, key: string, what: string, declare: (ch: AmqpChannel) => Promise<void>) {
    return this.declared.get(key, () => this.scratch(model, what, declare))
  }

  /**
   * A server-side error (404 on a passive check, 406 on mismatched arguments) closes the AMQP
   * channel it happened on, so declarations and checks run on a channel of their own, thrown away
   * afterwards. A failure is an OmnibusError naming `what` (the resource, its channel and group).
   */
  async scratch<T>(model: ChannelModel, what: string, work: (ch: AmqpChannel) => Promise<T>): Promise<T> {
    let ch: AmqpChannel | undefined
    try {
      ch = await model.createChannel()
      ch.on('error', () => undefined)
      return await work(ch)
    } catch (error) {
      throw this.failure(error, what)
    } finally {
      await ch?.close().catch(() => undefined)
    }
  }

  /** The OmnibusError a failed declaration of `what` amounts to: 404 missing, 406 other settings, 403 not allowed. */
  private failure(error: unknown, what: string): unknown {
    // The AMQP reply code (404 not found, 406 precondition failed, …) is the error's `code`.
    const missing = errorIs(error, 404)
    if (missing && this.settings.declare)
      return adapterError('rabbitmq', 'CHANNEL_NOT_FOUND', `${what} does not exist`, error)
    const check = errorIs(error, 406)
      ? 'whether it exists with other settings (classic vs quorum, single active consumer, durability): ' +
        'delete it or make the options match'
      : errorIs(error, 403)
        ? 'that the user may declare and read it'
        : "the broker's log"
    return provisioningFailure('rabbitmq', what, error, missing ? 'missing' : 'other', check)
  }
}

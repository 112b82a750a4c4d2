import {
  type Channel,
  CumulativeAcks,
  type DeliveryHandler,
  errorMessage,
  InFlight,
  Reconnecting,
  type SubscribeOptions,
  type Subscription,
} from '@omnibus/core/adapter'
import type { Channel as AmqpChannel, ConsumeMessage } from 'amqplib'
import { fromAmqp } from './rabbitmq-binding.js'
import type { Shared } from './rabbitmq-connection.js'

type Acks = CumulativeAcks<ConsumeMessage>

/**
 * One member of a group: its own AMQP channel with prefetch = min(prefetch, maxInFlight), manual
 * acks (ack when the handler resolved, nack + requeue when it rejected; coalesced by the toolkit's
 * `CumulativeAcks`: one `multiple` ack per turn for what settled below the first unsettled delivery).
 * Whatever takes its channel away (a lost connection, a channel error, the broker cancelling it
 * because its queue was deleted) it declares its queue again and resumes by itself (`Reconnecting`),
 * logging the outage once at warn and the recovery once at info. The broker requeues what was
 * unacknowledged on the old channel, so acks for those (settled too late) are dropped, not sent on a
 * dead channel.
 */
export class RabbitMQConsumer implements Subscription {
  private readonly consuming: Reconnecting<AmqpChannel>
  private consumerTag: string | undefined
  private queue: string | undefined
  private acks: Acks | undefined
  private readonly inFlight = new InFlight()
  private stopped = false
  /** The channel current when close() began. */
  private last: AmqpChannel | undefined

  constructor(
    private readonly shared: Shared,
    private readonly target: Channel,
    private readonly group: string,
    private readonly handler: DeliveryHandler,
    private readonly options: SubscribeOptions,
  ) {
    const { settings, logger } = shared
    this.consuming = new Reconnecting({
      open: () => this.open(),
      close: (channel) => channel.close(),
      minMs: settings.reconnectDelayMs,
      maxMs: settings.reconnectMaxDelayMs,
      logger,
      // The old channel went with the old connection: consume again at once on the new one.
      on: shared.link,
      say: {
        lost: 'consumer lost the broker; retrying',
        retry: 'consumer could not resume yet',
        back: 'consumer resumed',
      },
      fields: { channel: target.name, group },
      adapter: 'rabbitmq',
      // Provisioning's errors (a missing queue) pass as they are: they name what is wrong.
      unreachable: `could not consume channel "${target.name}" as group "${group}"; is the broker reachable?`,
    })
  }

  start(): Promise<AmqpChannel> {
    return this.consuming.start()
  }

  /** Called once: core's wrapper makes a subscription's close idempotent. */
  async close(): Promise<void> {
    const { link, provisioner, logger } = this.shared
    this.stopped = true
    this.last = this.consuming.stop()
    if (this.last && this.consumerTag) await this.last.cancel(this.consumerTag).catch(() => undefined)
    // A recovery under way may still open a channel and consume: wait until it has closed that
    // again (deliver() hands nothing from it out; the broker requeues it), bounded.
    await this.consuming.idle(this.shared.settings.publishTimeoutMs)
    await this.inFlight.idle()
    // Everything has settled: send the acks still waiting for their turn.
    this.acks?.flush()
    if (this.options.temporary && this.queue && link.current)
      await provisioner.remove(link.current, this.queue).catch((error: unknown) => {
        logger.warn('could not delete a temporary queue', { queue: this.queue, error: errorMessage(error) })
      })
    await this.last?.close().catch(() => undefined)
  }

  /** Declares the queue and consumes it on a new channel of the current connection. */
  private async open(): Promise<AmqpChannel> {
    const { link, provisioner, settings, logger } = this.shared
    const model = link.current
    if (!model) throw new Error('no connection to the broker')
    this.queue = await provisioner.forConsume(model, this.target, this.group, this.options.temporary)
    const channel = await model.createChannel()
    const acks = new CumulativeAcks<ConsumeMessage>({
      tagOf: (m) => m.fields.deliveryTag,
      ackUpTo: (m) => channel.ack(m, true),
      ack: (m) => channel.ack(m),
      reject: (m) => channel.nack(m, false, true),
    })
    const fields = { channel: this.target.name, group: this.group }
    channel.on('error', (e: Error) => logger.debug('consumer channel error', { ...fields, error: e.message }))
    channel.on('close', () => {
      // The broker requeues what was unacknowledged; acks for it must not go out on another channel.
      acks.stop()
      const alone = link.current === model
      // The channel alone died (its queue deleted?): declare again. Either way resume (and log) from now.
      if (alone && this.consuming.current === channel) provisioner.declared.clear()
      this.consuming.lost(channel, alone ? 'the broker closed its channel' : 'the connection was lost')
    })
    try {
      await channel.prefetch(Math.max(1, Math.min(settings.prefetch, this.options.maxInFlight)))
      // Manual acks: amqplib's default (noAck false).
      const consuming = await channel.consume(this.queue, (m) => this.deliver(channel, acks, m))
      this.consumerTag = consuming.consumerTag
    } catch (error) {
      await channel.close().catch(() => undefined)
      throw error
    }
    // Closed before it was current (its 'close' was not taken as a loss then): the next attempt follows.
    if (acks.stopped) throw new Error('the channel closed while it opened')
    this.acks = acks
    return channel
  }

  private deliver(channel: AmqpChannel, acks: Acks, message: ConsumeMessage | null): void {
    // A channel a late recovery opened after close(): nothing from it is handed out (unacknowledged,
    // the broker requeues it when it closes). The last channel settles as before.
    if (this.stopped && channel !== this.last) return
    if (message === null) {
      // The broker cancelled us (queue deleted): declare it again and resume, unless we are stopping.
      this.consuming.lost(channel, 'the broker cancelled the consumer (queue deleted?)')
      return
    }
    this.inFlight.enter()
    acks.add(message)
    void this.handOut(acks, message)
  }

  /** Hands one delivery to the handler and settles it; never throws. (One async function: fewer promises.) */
  private async handOut(acks: Acks, message: ConsumeMessage): Promise<void> {
    try {
      // fromAmqp never throws (test/rabbitmq-decode-property.test.ts); a throwing handler counts as a rejection.
      await this.handler(fromAmqp(message))
      acks.ok(message)
    } catch {
      acks.reject(message)
    }
    this.inFlight.leave()
  }
}

import type {
  Channel,
  Delivery,
  DeliveryHandler,
  Logger,
  SubscribeOptions,
  Subscription,
} from '@omnibus/core'
import type { Channel as AmqpChannel, ChannelModel, ConsumeMessage } from 'amqplib'
import { fromAmqp } from './rabbitmq-binding.js'
import type { RabbitMQSettings } from './rabbitmq-config.js'
import type { Link } from './rabbitmq-connection.js'
import { errorMessage } from './rabbitmq-errors.js'
import type { Provisioner } from './rabbitmq-provisioner.js'

/**
 * One member of a group: its own AMQP channel with prefetch = maxInFlight,
 * manual acks (ack when the handler resolved, nack + requeue when it rejected).
 * After a lost channel or connection it declares its queue again and resumes;
 * the broker requeues whatever was unacknowledged on the old channel, so acks
 * for those (settled too late) are dropped rather than sent on a dead channel.
 */
export class Consumer implements Subscription {
  private channel: AmqpChannel | undefined
  private consumerTag: string | undefined
  private queue: string | undefined
  private inFlight = 0
  private readonly idle: (() => void)[] = []
  private stopping = false
  private recovering = false
  private unlisten: (() => void) | undefined
  private closing: Promise<void> | undefined

  constructor(
    private readonly link: Link,
    private readonly provisioner: Provisioner,
    private readonly settings: RabbitMQSettings,
    private readonly logger: Logger,
    private readonly target: Channel,
    private readonly group: string,
    private readonly handler: DeliveryHandler,
    private readonly options: SubscribeOptions,
  ) {}

  async start(): Promise<void> {
    const model = await this.link.ready(Date.now() + this.settings.publishTimeoutMs)
    await this.open(model)
    this.unlisten = this.link.onReconnect((next) => this.recover(next))
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown()
    return this.closing
  }

  private async shutdown(): Promise<void> {
    this.stopping = true
    this.unlisten?.()
    const channel = this.channel
    if (channel && this.consumerTag) await channel.cancel(this.consumerTag).catch(() => undefined)
    while (this.inFlight > 0) await new Promise<void>((resolve) => this.idle.push(resolve))
    const model = this.link.current
    if (this.options.temporary && this.queue && model) {
      await this.provisioner.remove(model, this.queue).catch((error: unknown) => {
        this.logger.warn('rabbitmq could not delete a temporary queue', {
          queue: this.queue,
          error: errorMessage(error),
        })
      })
    }
    this.channel = undefined
    await channel?.close().catch(() => undefined)
  }

  private async open(model: ChannelModel): Promise<void> {
    this.queue = await this.provisioner.forConsume(model, this.target, this.group, this.options.temporary)
    const channel = await model.createChannel()
    this.channel = channel
    channel.on('error', (error: Error) =>
      this.logger.warn('rabbitmq consumer channel error', { error: error.message }),
    )
    channel.on('close', () => {
      if (this.channel !== channel) return
      this.channel = undefined
      this.consumerTag = undefined
      // Only the channel died (the connection's own recovery covers the rest).
      if (!this.stopping && this.link.current === model) {
        this.provisioner.forget()
        setTimeout(() => void this.recover(model), this.settings.reconnectDelayMs)
      }
    })
    await channel.prefetch(Math.max(1, Math.min(this.settings.prefetch, this.options.maxInFlight)))
    const { consumerTag } = await channel.consume(
      this.queue,
      (message) => this.deliver(channel, model, message),
      {
        noAck: false,
      },
    )
    this.consumerTag = consumerTag
    if (this.stopping) await channel.cancel(consumerTag).catch(() => undefined)
  }

  /** Opens again on `model` until it works, the subscription closes, or that connection is gone too. */
  private async recover(model: ChannelModel): Promise<void> {
    if (this.recovering) return
    this.recovering = true
    try {
      let delay = this.settings.reconnectDelayMs
      while (!this.stopping && this.link.current === model && !this.channel) {
        try {
          await this.open(model)
          this.logger.info('rabbitmq consumer resumed', { channel: this.target.name, group: this.group })
        } catch (error) {
          this.logger.warn('rabbitmq consumer could not resume; retrying', { error: errorMessage(error) })
          // open() may have got as far as a channel before failing.
          const broken = this.channel as AmqpChannel | undefined
          this.channel = undefined
          await broken?.close().catch(() => undefined)
          await new Promise((resolve) => setTimeout(resolve, delay))
          delay = Math.min(delay * 2, this.settings.reconnectMaxDelayMs)
        }
      }
    } finally {
      this.recovering = false
    }
  }

  private deliver(channel: AmqpChannel, model: ChannelModel, message: ConsumeMessage | null): void {
    if (message === null) {
      // The broker cancelled us (queue deleted): declare it again and resume, unless we are stopping.
      if (this.channel === channel) this.channel = undefined
      void channel.close().catch(() => undefined)
      if (!this.stopping) void this.recover(model)
      return
    }
    this.inFlight++
    let delivery: Delivery
    try {
      delivery = fromAmqp(message)
    } catch (error) {
      delivery = {
        malformed: {
          reason: `undecodable AMQP message: ${errorMessage(error)}`,
          body: message.content,
          headers: {},
        },
        deliveryCount: 1,
      }
    }
    let handled: Promise<void>
    try {
      handled = this.handler(delivery)
    } catch (error) {
      handled = Promise.reject(error)
    }
    handled.then(
      () => this.settle(channel, message, true),
      () => this.settle(channel, message, false),
    )
  }

  private settle(channel: AmqpChannel, message: ConsumeMessage, ok: boolean): void {
    try {
      // On a channel that has since closed the broker has requeued the message already.
      if (this.channel === channel || this.stopping) {
        if (ok) channel.ack(message)
        else channel.nack(message, false, true)
      }
    } catch (error) {
      this.logger.debug('rabbitmq could not settle a delivery; the broker will redeliver it', {
        error: errorMessage(error),
      })
    }
    this.inFlight--
    if (this.inFlight === 0) for (const wake of this.idle.splice(0)) wake()
  }
}

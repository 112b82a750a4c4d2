import type { Logger } from '@omnibus/core'
import type {
  Channel,
  Delivery,
  DeliveryHandler,
  SubscribeOptions,
  Subscription,
} from '@omnibus/core/adapter'
import { InFlight } from '@omnibus/core/adapter'
import type { Channel as AmqpChannel, ChannelModel, ConsumeMessage } from 'amqplib'
import { fromAmqp } from './rabbitmq-binding.js'
import type { RabbitMQSettings } from './rabbitmq-config.js'
import type { Link } from './rabbitmq-connection.js'
import { errorMessage } from './rabbitmq-errors.js'
import type { Provisioner } from './rabbitmq-provisioner.js'

/** A delivery on one channel, from hand-out until its settlement has been sent. */
interface Unsettled {
  readonly message: ConsumeMessage
  /** pending: in the handler; ok: handled, ack not sent yet; sent: acked or nacked already. */
  state: 'pending' | 'ok' | 'sent'
}

/**
 * Acknowledgements for one AMQP channel, coalesced. Deliveries are kept in
 * delivery-tag order; once per turn of the event loop the run of settled
 * deliveries at the front goes out as one `basic.ack` with `multiple` set, up to
 * the last of them not yet acknowledged. That frame covers only tags at or below
 * it, and every one of those has settled (nothing unsettled is ever acknowledged).
 * A delivery handled while an earlier one is still in its handler is acknowledged
 * on its own, so a slow handler never holds back the prefetch credit of the
 * others. Rejections are sent at once (nack + requeue, single).
 */
class Acks {
  private readonly queue: Unsettled[] = []
  private head = 0
  private scheduled = false
  closed = false

  constructor(
    private readonly channel: AmqpChannel,
    private readonly onError: (error: unknown) => void,
  ) {}

  add(message: ConsumeMessage): Unsettled {
    const entry: Unsettled = { message, state: 'pending' }
    this.queue.push(entry)
    return entry
  }

  ok(entry: Unsettled): void {
    entry.state = 'ok'
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(() => this.flush())
  }

  reject(entry: Unsettled): void {
    entry.state = 'sent'
    if (this.closed) return
    try {
      this.channel.nack(entry.message, false, true)
    } catch (error) {
      this.onError(error)
    }
  }

  /** Sends what has settled: one multiple-ack for the settled front, single acks behind an unsettled one. */
  flush(): void {
    this.scheduled = false
    const queue = this.queue
    let last: Unsettled | undefined
    let i = this.head
    for (; i < queue.length && queue[i]!.state !== 'pending'; i++)
      if (queue[i]!.state === 'ok') last = queue[i]
    if (i >= 1024 || i === queue.length) {
      queue.splice(0, i)
      i = 0
    }
    this.head = i
    if (this.closed) return
    try {
      if (last) {
        last.state = 'sent'
        this.channel.ack(last.message, true)
      }
      for (let j = i; j < queue.length; j++) {
        const entry = queue[j]!
        if (entry.state !== 'ok') continue
        entry.state = 'sent'
        this.channel.ack(entry.message)
      }
    } catch (error) {
      this.onError(error)
    }
  }
}

/**
 * One member of a group: its own AMQP channel with prefetch = maxInFlight,
 * manual acks (ack when the handler resolved, nack + requeue when it rejected;
 * acks of consecutive deliveries coalesced, see `Acks`).
 * After a lost channel or connection it declares its queue again and resumes;
 * the broker requeues whatever was unacknowledged on the old channel, so acks
 * for those (settled too late) are dropped rather than sent on a dead channel.
 */
export class Consumer implements Subscription {
  private channel: AmqpChannel | undefined
  private acks: Acks | undefined
  private consumerTag: string | undefined
  private queue: string | undefined
  private readonly inFlight = new InFlight()
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
    await this.inFlight.idle()
    // Everything has settled: send the acks still waiting for their turn.
    if (channel && this.acks) this.acks.flush()
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
    const acks = new Acks(channel, (error) =>
      this.logger.debug('rabbitmq could not settle a delivery; the broker will redeliver it', {
        error: errorMessage(error),
      }),
    )
    this.acks = acks
    channel.on('error', (error: Error) =>
      this.logger.warn('rabbitmq consumer channel error', { error: error.message }),
    )
    channel.on('close', () => {
      // The broker requeues what was unacknowledged; acks for it must not go out on another channel.
      acks.closed = true
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
      (message) => this.deliver(channel, acks, model, message),
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

  private deliver(
    channel: AmqpChannel,
    acks: Acks,
    model: ChannelModel,
    message: ConsumeMessage | null,
  ): void {
    if (message === null) {
      // The broker cancelled us (queue deleted): declare it again and resume, unless we are stopping.
      if (this.channel === channel) this.channel = undefined
      void channel.close().catch(() => undefined)
      if (!this.stopping) void this.recover(model)
      return
    }
    this.inFlight.enter()
    const entry = acks.add(message)
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
      () => this.settle(channel, acks, entry, true),
      () => this.settle(channel, acks, entry, false),
    )
  }

  private settle(channel: AmqpChannel, acks: Acks, entry: Unsettled, ok: boolean): void {
    // On a channel that has since closed the broker has requeued the message already.
    if (this.channel !== channel && !this.stopping) acks.closed = true
    if (ok) acks.ok(entry)
    else acks.reject(entry)
    this.inFlight.leave()
  }
}

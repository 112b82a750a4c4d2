import type { Logger } from '@omnibus/core'
import {
  Backoff,
  type Channel,
  type DeliveryHandler,
  errorMessage,
  InFlight,
  pause,
  type SubscribeOptions,
  type Subscription,
} from '@omnibus/core/adapter'
import type { Channel as AmqpChannel, ChannelModel, ConsumeMessage } from 'amqplib'
import { fromAmqp } from './rabbitmq-binding.js'
import type { RabbitMQSettings } from './rabbitmq-config.js'
import type { Link } from './rabbitmq-connection.js'
import type { RabbitMQProvisioner } from './rabbitmq-provisioner.js'

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

  constructor(private readonly channel: AmqpChannel) {}

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
    this.send(() => this.channel.nack(entry.message, false, true))
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
    this.send(() => {
      if (last) {
        last.state = 'sent'
        this.channel.ack(last.message, true)
      }
      for (let j = i; j < queue.length; j++) {
        if (queue[j]!.state !== 'ok') continue
        queue[j]!.state = 'sent'
        this.channel.ack(queue[j]!.message)
      }
    })
  }

  private send(settle: () => void): void {
    if (this.closed) return
    try {
      settle()
    } catch {
      // The channel is closing: the broker redelivers whatever was not settled.
    }
  }
}

/**
 * One member of a group: its own AMQP channel with prefetch = min(prefetch, maxInFlight), manual
 * acks (ack when the handler resolved, nack + requeue when it rejected; coalesced, see `Acks`).
 * Whatever takes its channel away (a lost connection, a channel error, the broker cancelling it
 * because its queue was deleted) it declares its queue again and resumes by itself, logging the
 * outage once at warn and the recovery once at info. The broker requeues what was unacknowledged
 * on the old channel, so acks for those (settled too late) are dropped, not sent on a dead channel.
 */
export class RabbitMQConsumer implements Subscription {
  private channel: AmqpChannel | undefined
  private consumerTag: string | undefined
  private queue: string | undefined
  private readonly inFlight = new InFlight()
  private readonly stop = new AbortController()
  private recovering: Promise<void> | undefined
  private wake: (() => void) | undefined
  private acks: Acks | undefined
  private unlisten: (() => void) | undefined
  private closing: Promise<void> | undefined

  constructor(
    private readonly link: Link,
    private readonly provisioner: RabbitMQProvisioner,
    private readonly settings: RabbitMQSettings,
    private readonly logger: Logger,
    private readonly target: Channel,
    private readonly group: string,
    private readonly handler: DeliveryHandler,
    private readonly options: SubscribeOptions,
  ) {}

  async start(): Promise<void> {
    await this.open(await this.link.ready(AbortSignal.timeout(this.settings.publishTimeoutMs)))
    this.unlisten = this.link.onReconnect(() => {
      this.wake?.()
      return this.recover('the connection was lost')
    })
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown()
    return this.closing
  }

  private async shutdown(): Promise<void> {
    this.stop.abort()
    this.unlisten?.()
    await this.recovering
    const channel = this.channel
    if (channel && this.consumerTag) await channel.cancel(this.consumerTag).catch(() => undefined)
    await this.inFlight.idle()
    // Everything has settled: send the acks still waiting for their turn.
    this.acks?.flush()
    const model = this.link.current
    if (this.options.temporary && this.queue && model) {
      await this.provisioner.remove(model, this.queue).catch((error: unknown) => {
        this.logger.warn('could not delete a temporary queue', {
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
    const acks = new Acks(channel)
    this.acks = acks
    channel.on('error', (error: Error) =>
      this.logger.debug('consumer channel error', { error: error.message }),
    )
    channel.on('close', () => {
      // The broker requeues what was unacknowledged; acks for it must not go out on another channel.
      acks.closed = true
      if (this.channel !== channel) return
      this.channel = undefined
      this.consumerTag = undefined
      // The channel alone died (its queue deleted?): declare again. Either way resume (and log) from now.
      if (this.link.current === model) this.provisioner.forget()
      void this.recover(
        this.link.current === model ? 'the broker closed its channel' : 'the connection was lost',
      )
    })
    await channel.prefetch(Math.max(1, Math.min(this.settings.prefetch, this.options.maxInFlight)))
    const consuming = await channel.consume(this.queue, (m) => this.deliver(channel, acks, m), {
      noAck: false,
    })
    this.consumerTag = consuming.consumerTag
    if (this.stop.signal.aborted) await channel.cancel(consuming.consumerTag).catch(() => undefined)
  }

  /** Opens again, on whichever connection is current, until it works or the subscription closes. */
  private recover(reason: string): Promise<void> {
    if (this.stop.signal.aborted) return Promise.resolve()
    this.recovering ??= this.resume(reason).finally(() => {
      this.recovering = undefined
    })
    return this.recovering
  }

  private async resume(reason: string): Promise<void> {
    const since = Date.now()
    const where = { channel: this.target.name, group: this.group }
    this.logger.warn('consumer lost the broker; retrying', { ...where, reason })
    const backoff = new Backoff(this.settings.reconnectDelayMs, this.settings.reconnectMaxDelayMs)
    const signal = this.stop.signal
    while (!signal.aborted && !this.channel) {
      const model = this.link.current
      try {
        if (model) await this.open(model)
      } catch (error) {
        this.logger.debug('consumer could not resume yet', { ...where, error: errorMessage(error) })
        // open() may have got as far as a channel before failing.
        const broken = this.channel as AmqpChannel | undefined
        this.channel = undefined
        await broken?.close().catch(() => undefined)
      }
      if (this.channel) break
      // Until the next try, or until the link is back (it wakes us through its reconnect listener).
      await new Promise<void>((resolve) => {
        this.wake = resolve
        void pause(backoff.next(), signal).then(resolve)
      })
    }
    if (this.channel) this.logger.info('consumer resumed', { ...where, outageMs: Date.now() - since })
  }

  private deliver(channel: AmqpChannel, acks: Acks, message: ConsumeMessage | null): void {
    if (message === null) {
      // The broker cancelled us (queue deleted): declare it again and resume, unless we are stopping.
      if (this.channel === channel) this.channel = undefined
      void channel.close().catch(() => undefined)
      void this.recover('the broker cancelled the consumer (queue deleted?)')
      return
    }
    this.inFlight.enter()
    const entry = acks.add(message)
    // fromAmqp never throws (test/rabbitmq-decode-property.test.ts); a throwing handler counts as a rejection.
    void Promise.resolve(fromAmqp(message))
      .then(this.handler)
      .then(
        () => acks.ok(entry),
        () => acks.reject(entry),
      )
      .finally(() => this.inFlight.leave())
  }
}

import {
  Duration,
  type Message,
  type PubSub,
  type Subscription as PubSubSubscription,
} from '@google-cloud/pubsub'
import type { Logger } from '@omnibus/core'
import {
  type Channel,
  type DeliveryHandler,
  errorMessage,
  InFlight,
  retrying,
  type SubscribeOptions,
  type Subscription,
} from '@omnibus/core/adapter'
import { fromPubSubMessage } from './gcp-binding.js'
import type { ResolvedGcpConfig } from './gcp-config.js'
import { Status, statusOf } from './gcp-errors.js'
import type { GcpProvisioner } from './gcp-provisioner.js'

/** What a consumer shares with its transport. */
export interface ConsumerDeps {
  readonly pubsub: PubSub
  readonly provisioner: GcpProvisioner
  readonly options: ResolvedGcpConfig
  readonly logger: Logger
}

/**
 * One member of a group: a streaming pull on the group's subscription whose
 * client-side flow control holds at most `maxInFlight` messages, and whose
 * lease management extends ack deadlines while handlers run. When the stream
 * dies for good (the subscription vanished with an emulator restart, or a
 * non-retryable status), it re-provisions and opens a new stream, with backoff,
 * until it works or the consumer is closed. UNAVAILABLE is retried by the
 * client itself, reconnecting once Pub/Sub is back.
 */
export class GcpConsumer implements Subscription {
  private current: PubSubSubscription | undefined
  private readonly inFlight = new InFlight()
  private closing: Promise<void> | undefined
  private recovering = false
  private readonly stop = new AbortController()
  private readonly name: string

  constructor(
    private readonly deps: ConsumerDeps,
    private readonly channel: Channel,
    private readonly group: string,
    private readonly handler: DeliveryHandler,
    private readonly subscribeOptions: SubscribeOptions,
  ) {
    this.name = deps.provisioner.subscriptionName(channel, group)
  }

  async start(): Promise<void> {
    await this.provision(this.subscribeOptions.from)
    this.open()
  }

  /** Core calls this once (its wrapper makes close idempotent). */
  close(): Promise<void> {
    this.closing = this.shutdown()
    return this.closing
  }

  private async provision(from?: SubscribeOptions['from']): Promise<void> {
    const { provisioner, options } = this.deps
    if (!options.provision) return provisioner.assertSubscription(this.channel, this.group)
    const spec = {
      channel: this.channel,
      group: this.group,
      temporary: this.subscribeOptions.temporary === true,
    }
    await provisioner.ensureSubscription(spec, from)
  }

  private open(): void {
    const { options } = this.deps
    const sub = this.deps.pubsub.subscription(this.name, {
      // Exactly maxInFlight messages leased at a time; the surplus of a pull
      // stays with Pub/Sub instead of piling up in this process.
      flowControl: {
        maxMessages: Math.max(1, this.subscribeOptions.maxInFlight),
        allowExcessMessages: false,
      },
      maxExtensionTime: Duration.from({ minutes: options.maxExtensionMinutes }),
      // Pub/Sub sends the next messages only once acks arrive, so acks leave
      // quickly rather than in the client's default 100 ms batches.
      batching: { maxMilliseconds: 10 },
      streamingOptions: { maxStreams: options.streams, retryMaxBackoff: Duration.from({ seconds: 5 }) },
    })
    sub.on('message', (message: Message) => this.onMessage(sub, message))
    sub.on('error', (error: Error) => this.onError(sub, error))
    sub.on('debug', (debug: { message: string }) => this.deps.logger.debug(debug.message))
    sub.on('close', () => {
      if (sub === this.current && !this.closing) void this.recover()
    })
    this.current = sub
  }

  private onMessage(sub: PubSubSubscription, message: Message): void {
    // While closing, messages are left alone: close() nacks them for the next member.
    if (this.closing || sub !== this.current) return
    this.inFlight.enter()
    const decoded = fromPubSubMessage(message.data, message.attributes)
    // deliveryAttempt is only filled in under a dead-letter policy; core counts attempts itself.
    const deliveryCount = message.deliveryAttempt > 0 ? message.deliveryAttempt : 1
    let handled: Promise<void>
    try {
      handled = this.handler({ ...decoded, deliveryCount })
    } catch (error) {
      handled = Promise.reject(error)
    }
    handled
      .then(
        () => message.ack(),
        (error: unknown) => {
          // While closing, the stream is still open: a nack now would hand the message straight
          // back to it. close() nacks what is left once the stream is down.
          if (this.closing) return
          this.deps.logger.debug('delivery rejected; nacked for redelivery', {
            subscription: this.name,
            id: message.id,
            reason: errorMessage(error),
          })
          message.nack()
        },
      )
      .finally(() => {
        this.inFlight.leave()
      })
  }

  private onError(sub: PubSubSubscription, error: Error): void {
    if (this.closing || sub !== this.current) return
    const notFound = statusOf(error) === Status.NOT_FOUND
    this.deps.logger.warn(
      notFound
        ? 'subscription not found (broker restarted or subscription deleted); will re-create it'
        : 'subscription stream failed',
      { subscription: this.name, reason: errorMessage(error) },
    )
    // The client closes a stream that failed for good; if it did not, nothing to do.
    if (!sub.isOpen) void this.recover()
  }

  /** Re-provisions what vanished and opens a new stream, with backoff, until it works or we close. */
  private async recover(): Promise<void> {
    if (this.recovering) return
    this.recovering = true
    const old = this.current
    this.current = undefined
    await old?.close().catch(() => undefined)
    const { provisioner, options, logger } = this.deps
    const reopened = await retrying(
      async () => {
        if (options.provision) await provisioner.recreate(this.channel)
        else await provisioner.assertSubscription(this.channel, this.group)
        if (!this.closing) this.open()
        return true
      },
      {
        minMs: 250,
        maxMs: 5_000,
        signal: this.stop.signal,
        onError: (error, retryInMs) =>
          logger.warn('could not re-open subscription yet; retrying', {
            subscription: this.name,
            reason: errorMessage(error),
            retryInMs,
          }),
      },
    )
    if (reopened && !this.closing) logger.info('subscription re-opened', { subscription: this.name })
    this.recovering = false
  }

  private async shutdown(): Promise<void> {
    this.stop.abort()
    await this.inFlight.idle()
    const sub = this.current
    this.current = undefined
    try {
      // Flushes the acks of settled deliveries and nacks what was held back.
      await sub?.close()
    } catch (error) {
      this.deps.logger.warn('closing subscription failed', {
        subscription: this.name,
        reason: errorMessage(error),
      })
    }
    if (this.subscribeOptions.temporary) {
      await this.deps.provisioner.remove(this.channel, this.group).catch((error: unknown) => {
        this.deps.logger.warn('could not delete temporary channel; it expires after a day unused', {
          channel: this.channel.name,
          reason: errorMessage(error),
        })
      })
    }
  }
}

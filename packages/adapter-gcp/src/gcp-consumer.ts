import {
  Duration,
  type Message,
  type PubSub,
  type Subscription as PubSubSubscription,
} from '@google-cloud/pubsub'
import type { Logger } from '@omnibus/core'
import {
  Backoff,
  type Channel,
  type DeliveryHandler,
  describeError,
  errorMessage,
  InFlight,
  Outage,
  pause,
  retrying,
  type SubscribeOptions,
  type Subscription,
} from '@omnibus/core/adapter'
import { fromPubSubMessage } from './gcp-binding.js'
import type { ResolvedGcpConfig } from './gcp-config.js'
import { statusOf } from './gcp-errors.js'
import type { GcpProvisioner } from './gcp-provisioner.js'

/** What a consumer shares with its transport. */
export interface ConsumerDeps {
  readonly pubsub: PubSub
  readonly provisioner: GcpProvisioner
  readonly options: ResolvedGcpConfig
  readonly logger: Logger
}

// Routine stream ends (OK, CANCELLED, DEADLINE_EXCEEDED: streams rotated or closed), not outages.
const ROUTINE = new Set([0, 1, 4])

/**
 * One member of a group: a streaming pull whose client-side flow control holds at most
 * `maxInFlight` messages, and whose lease management extends ack deadlines while handlers run.
 * The client re-opens a stream that ended with a transient status itself; any failure it reports
 * opens an outage (one warning), watched until the subscription answers again (re-created if it
 * vanished) with a stream open (a new one if the client gave up): then one info with `outageMs`.
 */
export class GcpConsumer implements Subscription {
  private current: PubSubSubscription | undefined
  private readonly inFlight = new InFlight()
  private closing: Promise<void> | undefined
  private readonly stop = new AbortController()
  private readonly name: string
  private readonly outage: Outage
  private watching: Promise<void> | undefined
  private again = false
  // Between streams that die as soon as they open (say, a permission the subscription lacks).
  private readonly reopen = new Backoff(250, 5_000)

  constructor(
    private readonly deps: ConsumerDeps,
    private readonly channel: Channel,
    private readonly group: string,
    private readonly handler: DeliveryHandler,
    private readonly subscribeOptions: SubscribeOptions,
  ) {
    this.name = deps.provisioner.subscriptionName(channel, group)
    this.outage = new Outage(deps.logger, { subscription: this.name })
  }

  async start(): Promise<void> {
    const { channel, group, subscribeOptions: options } = this
    const spec = { channel, group, temporary: !!options.temporary }
    await this.deps.provisioner.ensureSubscription(spec, options.from)
    this.open()
  }

  /** Core calls this once (its wrapper makes close idempotent). */
  close(): Promise<void> {
    this.closing = this.shutdown()
    return this.closing
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
    sub.on('error', (error: Error) => this.lost(sub, error))
    sub.on('debug', (debug: { message: string; error?: unknown }) => {
      this.say('debug', debug.message)
      const code = statusOf(debug.error)
      if (code !== undefined && !ROUTINE.has(code)) this.lost(sub, debug.error)
    })
    sub.on('close', () => this.lost(sub, new Error('the stream closed')))
    this.current = sub
  }

  private onMessage(sub: PubSubSubscription, message: Message): void {
    // While closing, messages are left alone: close() nacks them for the next member.
    if (this.closing) return
    // From a stream given up for a new one: handed back, rather than its key waiting out the deadline.
    if (sub !== this.current) {
      message.nack()
      return
    }
    this.reopen.reset()
    // A message on the current stream ends an outage, even mid-backoff in watch().
    this.outage.end('consumer recovered')
    this.inFlight.enter()
    const decoded = fromPubSubMessage(message.data, message.attributes)
    // deliveryAttempt is only filled in under a dead-letter policy; core counts attempts itself.
    const deliveryCount = message.deliveryAttempt > 0 ? message.deliveryAttempt : 1
    // Called at once; a handler that throws rejects.
    new Promise<void>((resolve) => resolve(this.handler({ ...decoded, deliveryCount })))
      .then(
        () => message.ack(),
        (error: unknown) => {
          // While closing, the stream is still open: a nack now would hand the message straight
          // back to it. close() nacks what is left once the stream is down.
          if (this.closing) return
          this.say('debug', 'delivery rejected; nacked', { id: message.id, reason: errorMessage(error) })
          message.nack()
        },
      )
      .finally(() => this.inFlight.leave())
  }

  /** The stream reported a failure: open an outage (logged once) and watch until it is over. */
  private lost(sub: PubSubSubscription, reason: unknown): void {
    if (this.closing || sub !== this.current) return
    this.outage.begin('consumer lost the broker; retrying', { reason: describeError(reason) })
    this.again = true
    this.watching ??= this.watch().finally(() => {
      this.watching = undefined
    })
  }

  private async watch(): Promise<void> {
    const { provisioner, options } = this.deps
    while (this.again && !this.closing) {
      this.again = false
      await retrying(
        async () => {
          if (!(await provisioner.subscriptionExists(this.channel, this.group))) {
            if (!options.provision) await provisioner.assertSubscription(this.channel, this.group)
            await provisioner.recreate(this.channel)
          }
          if (this.current?.isOpen || this.closing) return
          const old = this.current
          this.current = undefined
          await old?.close().catch(() => undefined)
          await pause(this.reopen.next(), this.stop.signal)
          if (!this.closing) this.open()
        },
        {
          minMs: 250,
          maxMs: 5_000,
          signal: this.stop.signal,
          onError: (error, retryInMs) =>
            this.say('debug', 'broker not back yet', { reason: describeError(error), retryInMs }),
        },
      )
    }
    // Whichever of this and a delivery sees the recovery first logs it.
    if (!this.closing) this.outage.end('consumer recovered')
  }

  /** Logs with the subscription's name. */
  private say(level: 'debug' | 'info' | 'warn', message: string, fields?: Record<string, unknown>): void {
    this.deps.logger[level](message, { subscription: this.name, ...fields })
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
      this.say('warn', 'closing subscription failed', { reason: errorMessage(error) })
    }
    if (this.subscribeOptions.temporary) {
      await this.deps.provisioner.remove(this.channel, this.group).catch((error: unknown) => {
        const warning = 'could not delete temporary channel; it expires after a day unused'
        this.say('warn', warning, { channel: this.channel.name, reason: errorMessage(error) })
      })
    }
  }
}

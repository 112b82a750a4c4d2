import { structuredSize, structuredSizeBound } from '../envelope/binding.js'
import type { Envelope } from '../envelope/envelope.js'
import { MessageTooLargeError, OmnibusError } from '../errors.js'
import type {
  Capabilities,
  Channel,
  DeliveryHandler,
  StartPosition,
  SubscribeOptions,
  Subscription,
  Transport,
} from './transport.js'

/**
 * Core's wrapper around every transport, so that no adapter repeats it:
 * connect happens once (and again only after a failed attempt), close is
 * idempotent and closes subscriptions first, calls after close fail with
 * TRANSPORT_CLOSED, oversize events fail before anything is sent, and an empty
 * publish never reaches the adapter.
 */
export class GuardedTransport {
  private connecting: Promise<void> | undefined
  private closing: Promise<void> | undefined
  private readonly subscriptions = new Set<Subscription>()

  constructor(
    readonly inner: Transport,
    /** The name the config gave this transport (`events`), which may differ from the adapter's. */
    readonly key: string,
  ) {}

  get name(): string {
    return this.inner.name
  }

  get capabilities(): Capabilities {
    return this.inner.capabilities
  }

  get closed(): boolean {
    return this.closing !== undefined
  }

  async connect(): Promise<void> {
    this.assertOpen('connect')
    this.connecting ??= this.inner.connect().catch((error: unknown) => {
      this.connecting = undefined
      throw error
    })
    return this.connecting
  }

  /** Publishes events in order; rejects when any of them was not confirmed. */
  async publish(channel: Channel, events: readonly Envelope[]): Promise<void> {
    this.assertOpen('publish')
    const limit = this.inner.capabilities.maxMessageBytes
    for (const event of events) {
      // Nearly every event is far below the limit: counting exactly is for those near it.
      if (structuredSizeBound(event) <= limit) continue
      const size = structuredSize(event)
      if (size > limit) throw new MessageTooLargeError(this.inner.name, limit, size, event.id)
    }
    await this.connect()
    if (events.length > 0) await this.inner.publish(channel, events)
  }

  async provision(channel: Channel, group: string, from?: StartPosition): Promise<void> {
    this.assertOpen('provision')
    await this.connect()
    await this.inner.provision?.(channel, group, from)
  }

  async subscribe(
    channel: Channel,
    group: string,
    handler: DeliveryHandler,
    options: SubscribeOptions,
  ): Promise<Subscription> {
    this.assertOpen('subscribe')
    await this.connect()
    const inner = await this.inner.subscribe(channel, group, handler, options)
    let closing: Promise<void> | undefined
    const subscription: Subscription = {
      close: () => {
        closing ??= inner.close().finally(() => this.subscriptions.delete(subscription))
        return closing
      },
    }
    this.subscriptions.add(subscription)
    return subscription
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.subscriptions].map((s) => s.close()))
      // A transport that never connected has nothing to close.
      if (this.connecting) {
        await this.connecting.catch(() => undefined)
        await this.inner.close()
      }
    })()
    return this.closing
  }

  private assertOpen(operation: string): void {
    if (this.closing) {
      throw new OmnibusError(
        'TRANSPORT_CLOSED',
        `[${this.inner.name}] cannot ${operation}: transport "${this.key}" is closed; create a new bus to send again`,
      )
    }
  }
}

import type { Envelope, Logger } from '@omnibus/core'
import {
  adapterError,
  type Channel,
  errorMessage,
  OmnibusError,
  pause,
  withDeadline,
} from '@omnibus/core/adapter'
import type { ChannelModel, ConfirmChannel, Message } from 'amqplib'
import { toAmqp } from './rabbitmq-binding.js'
import type { RabbitMQSettings } from './rabbitmq-config.js'
import type { Link } from './rabbitmq-connection.js'
import type { RabbitMQProvisioner } from './rabbitmq-provisioner.js'

/** Lost with its channel or connection before the broker said yes or no: safe to send again (at-least-once). */
class Unconfirmed extends Error {}
/** What became of one message: confirmed, returned (no queue took it), or why not. */
const CONFIRMED = Symbol('confirmed')
const RETURNED = Symbol('returned')
type Outcome = typeof CONFIRMED | typeof RETURNED | Error

/**
 * Publishing with publisher confirms on one confirm channel per connection: all sends of a batch
 * first, then their confirms (one round trip). A nack rejects; a message whose channel or
 * connection went away before the answer is sent again once the connection is back (a possible
 * duplicate, never a loss). No confirm into the void: where a queue must take the message (a
 * queue channel, or a topic whose groups this transport declared or saw) it goes out `mandatory`,
 * and one the broker returns unrouted (its queue or exchange deleted) makes the channel and those
 * groups be declared again before it is resent; a must-exist channel then rejects CHANNEL_NOT_FOUND.
 * After `publishTimeoutMs` the publish rejects (withDeadline) and leaves its waits and resends.
 */
export class RabbitMQPublisher {
  private channel: Promise<ConfirmChannel> | undefined
  private channelOf: ChannelModel | undefined
  /** The socket buffer is full: sends wait for 'drain' (or the channel's end). */
  private full = false
  /**
   * Topics whose exchange was deleted under us: until a publish is routed again, one no queue takes
   * rejects CHANNEL_NOT_FOUND (their consumers elsewhere lost their bindings) instead of a confirm.
   */
  private readonly vanished = new Set<string>()
  /** Ids of messages the broker returned; a return comes before its confirm. */
  private readonly returned = new Set<string>()

  constructor(
    private readonly link: Link,
    private readonly provisioner: RabbitMQProvisioner,
    private readonly settings: RabbitMQSettings,
    private readonly logger: Logger,
  ) {}

  publish(channel: Channel, events: readonly Envelope[]): Promise<void> {
    const stop = new AbortController()
    const describe = () => `[rabbitmq] event ${events[0]!.id} to "${channel.name}"`
    return withDeadline(
      this.send(channel, events, stop.signal),
      this.settings.publishTimeoutMs,
      describe,
      () => stop.abort(),
    )
  }

  private async send(channel: Channel, events: readonly Envelope[], signal: AbortSignal): Promise<void> {
    let pending = events.map((event) => ({ event, message: toAmqp(event, this.settings.mode) }))
    while (pending.length > 0 && !signal.aborted) {
      const model = await this.link.ready(signal)
      let confirm: ConfirmChannel
      try {
        // A channel that must exist is never declared (it is an asker's reply queue).
        if (!channel.mustExist) await this.provisioner.forPublish(model, channel)
        confirm = await this.confirmChannel(model)
      } catch (error) {
        if (this.link.current !== model) continue // the connection dropped meanwhile: wait for the next one
        throw failed(channel, pending[0]!.event, error)
      }
      const known = channel.kind === 'queue' || this.provisioner.hasGroups(channel.name)
      const mandatory = known || this.vanished.has(channel.name)
      const outcomes = await this.batch(confirm, channel, pending, mandatory, signal)
      const retry: typeof pending = []
      for (const [i, outcome] of outcomes.entries()) {
        if (outcome === CONFIRMED || signal.aborted) continue
        if (outcome === RETURNED) {
          // Nothing this transport can declare again would take it: say so rather than confirm it to nobody.
          if (channel.mustExist || !this.settings.declare || !known) throw notFound(channel)
          this.provisioner.forget()
        } else if (!(outcome instanceof Unconfirmed)) throw failed(channel, pending[i]!.event, outcome)
        retry.push(pending[i]!)
      }
      if (retry.length === 0) this.vanished.delete(channel.name) // routed again: its consumers are back
      if (retry.length > 0) {
        this.logger.debug('not confirmed or returned; sending again', {
          channel: channel.name,
          count: retry.length,
        })
        // A channel-level failure would repeat itself at once: let topology be declared again first.
        await pause(50, signal)
      }
      pending = retry
    }
  }

  /** Sends `pending` in order and resolves with each one's outcome (or on abort). */
  private async batch(
    confirm: ConfirmChannel,
    channel: Channel,
    pending: readonly { event: Envelope; message: ReturnType<typeof toAmqp> }[],
    mandatory: boolean,
    signal: AbortSignal,
  ): Promise<Outcome[]> {
    const outcomes: Outcome[] = new Array(pending.length)
    let left = pending.length
    let allSettled!: () => void
    const settled = new Promise<void>((resolve) => {
      allSettled = resolve
      signal.addEventListener('abort', () => resolve(), { once: true })
    })
    const exchange = channel.kind === 'topic' ? channel.name : ''
    for (let i = 0; i < pending.length && !signal.aborted; i++) {
      const { event, message } = pending[i]!
      const done = (outcome: Outcome) => {
        // amqplib may report a message twice (a throw, then the channel's close): the first word counts.
        if (outcomes[i] !== undefined) return
        outcomes[i] = outcome === CONFIRMED && this.returned.delete(event.id) ? RETURNED : outcome
        if (--left === 0) allSettled()
      }
      try {
        const key = channel.kind === 'topic' ? event.type : channel.name
        const options = mandatory ? { ...message.options, mandatory } : message.options
        const ok = confirm.publish(exchange, key, message.content, options, (error: unknown) => {
          if (!error) done(CONFIRMED)
          else if (errorMessage(error).includes('nack'))
            done(new Error('the broker refused the message (nack)'))
          else done(new Unconfirmed(errorMessage(error)))
        })
        if (!ok) this.full = true
      } catch (error) {
        // amqplib throws synchronously on a closed channel, and a RangeError on oversized header tables.
        done(error instanceof RangeError ? error : new Unconfirmed(errorMessage(error)))
      }
      if (this.full) await drained(confirm, signal)
    }
    await settled
    return outcomes
  }

  private confirmChannel(model: ChannelModel): Promise<ConfirmChannel> {
    if (this.channel && this.channelOf === model) return this.channel
    this.channelOf = model
    const opening = model.createConfirmChannel().then((ch) => {
      ch.setMaxListeners(0) // every send waiting for 'drain' listens
      ch.on('error', (error: Error) => {
        // E.g. an exchange deleted behind our back (404): declare again before the resend.
        this.provisioner.forget()
        const exchange = /NOT_FOUND - no exchange '(.*)' in vhost/.exec(error.message)?.[1]
        if (exchange !== undefined) this.vanished.add(exchange)
        this.logger.warn('publish channel error', { error: error.message })
      })
      ch.on('drain', () => {
        this.full = false
      })
      ch.on('close', () => {
        this.full = false
        if (this.channel === opening) this.channel = undefined
      })
      ch.on('return', (returned: Message) => this.returned.add(String(returned.properties.messageId)))
      return ch
    })
    opening.catch(() => {
      if (this.channel === opening) this.channel = undefined
    })
    this.channel = opening
    return opening
  }

  async close(): Promise<void> {
    const channel = this.channel
    this.channel = undefined
    await (await channel?.catch(() => undefined))?.close().catch(() => undefined)
  }
}

/** Resolves on the channel's 'drain' or 'close', or when the publish gives up. */
function drained(ch: ConfirmChannel, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      ch.off('drain', done)
      ch.off('close', done)
      signal.removeEventListener('abort', done)
      resolve()
    }
    ch.on('drain', done)
    ch.on('close', done)
    signal.addEventListener('abort', done, { once: true })
  })
}

function notFound(channel: Channel): OmnibusError {
  const why = channel.mustExist
    ? 'and this channel is never created by a publish (a reply whose asker is gone)'
    : 'and none this transport knows can be declared again: its consumers must subscribe again'
  return adapterError(
    'rabbitmq',
    'CHANNEL_NOT_FOUND',
    `no queue of "${channel.name}" took the message, ${why}`,
  )
}

function failed(channel: Channel, event: Envelope, cause: unknown): OmnibusError {
  if (cause instanceof OmnibusError && cause.code !== 'TRANSPORT_UNAVAILABLE') return cause
  const what = `event ${event.id} to "${channel.name}" was not confirmed by the broker`
  return adapterError('rabbitmq', 'PUBLISH_FAILED', what, cause)
}

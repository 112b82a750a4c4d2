import { type Envelope, type Logger, OmnibusError } from '@omnibus/core'
import type { Channel } from '@omnibus/core/adapter'
import type { ChannelModel, ConfirmChannel, Message } from 'amqplib'
import { type OutgoingMessage, toAmqp } from './rabbitmq-binding.js'
import type { RabbitMQSettings } from './rabbitmq-config.js'
import type { Link } from './rabbitmq-connection.js'
import { errorMessage } from './rabbitmq-errors.js'
import type { Provisioner } from './rabbitmq-provisioner.js'

/** Lost with its channel or connection before the broker said yes or no: safe to send again (at-least-once). */
class Unconfirmed extends Error {}

/** What became of one message: confirmed, or the reason it was not. */
const CONFIRMED = Symbol('confirmed')
type Outcome = typeof CONFIRMED | Error

/**
 * Publishing with publisher confirms on one confirm channel per connection.
 * A publish resolves on the broker's ack and rejects on its nack. When the
 * channel or connection goes away before the answer, the message is sent again
 * once the connection is back (a possible duplicate, never a loss), until
 * `publishTimeoutMs` has passed; then it rejects.
 */
export class Publisher {
  private channel: Promise<ConfirmChannel> | undefined
  private channelOf: ChannelModel | undefined
  private drained: Promise<void> | undefined
  /** Ids of mandatory messages the broker returned (no queue took them); a return precedes its confirm. */
  private readonly returned = new Set<string>()

  constructor(
    private readonly link: Link,
    private readonly provisioner: Provisioner,
    private readonly settings: RabbitMQSettings,
    private readonly logger: Logger,
  ) {}

  async publish(channel: Channel, events: readonly Envelope[]): Promise<void> {
    const deadline = Date.now() + this.settings.publishTimeoutMs
    let pending = events.map((event) => ({ event, message: toAmqp(event, this.settings.mode) }))
    for (;;) {
      let model: ChannelModel
      try {
        model = await this.link.ready(deadline)
      } catch (error) {
        throw failed(channel, pending[0]!.event, error)
      }
      let confirm: ConfirmChannel
      try {
        // A channel that must exist is never declared: a message no queue takes comes back (mandatory).
        if (!channel.mustExist) await this.provisioner.forPublish(model, channel)
        confirm = await this.confirmChannel(model)
      } catch (error) {
        if (this.link.current !== model) continue // the connection dropped meanwhile: wait for the next one
        throw failed(channel, pending[0]!.event, error)
      }
      const exchange = channel.kind === 'topic' ? channel.name : ''
      // All sends first, in order, then all confirmations: one round trip for a batch,
      // and one promise for the batch rather than one per message.
      const outcomes: Outcome[] = new Array(pending.length)
      let left = pending.length
      let allSettled!: () => void
      const settled = new Promise<void>((resolve) => {
        allSettled = resolve
      })
      if (left === 0) allSettled()
      const settle = (i: number, outcome: Outcome) => {
        // amqplib may report a message twice (a throw, then the channel's close): the first word counts.
        if (outcomes[i] !== undefined) return
        outcomes[i] = outcome
        if (--left === 0) allSettled()
      }
      for (let i = 0; i < pending.length; i++) {
        const routingKey = channel.kind === 'topic' ? pending[i]!.event.type : channel.name
        const message = channel.mustExist ? mandatory(pending[i]!.message) : pending[i]!.message
        this.send(confirm, exchange, routingKey, message, (outcome) => settle(i, outcome))
        if (this.drained) await this.drained
      }
      await settled
      if (channel.mustExist && pending.some((p) => this.returned.delete(p.event.id))) {
        throw new OmnibusError(
          'CHANNEL_NOT_FOUND',
          `[omnibus] [rabbitmq] no queue "${channel.name}" took the message, and this channel is never created by a publish`,
        )
      }
      const retry: typeof pending = []
      for (let i = 0; i < pending.length; i++) {
        const outcome = outcomes[i]!
        if (outcome === CONFIRMED) continue
        if (!(outcome instanceof Unconfirmed)) throw failed(channel, pending[i]!.event, outcome)
        retry.push(pending[i]!)
      }
      if (retry.length === 0) return
      if (Date.now() >= deadline)
        throw failed(channel, retry[0]!.event, new Error('channel closed before confirm'))
      this.logger.debug('rabbitmq publish not confirmed before the channel closed; sending again', {
        channel: channel.name,
        count: retry.length,
      })
      pending = retry
      // A channel-level failure (not a lost connection) would repeat itself: let topology be declared again.
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  /** Publishes one message; `done` gets CONFIRMED, an Unconfirmed (safe to send again) or the refusal. */
  private send(
    confirm: ConfirmChannel,
    exchange: string,
    routingKey: string,
    message: OutgoingMessage,
    done: (outcome: Outcome) => void,
  ): void {
    try {
      const ok = confirm.publish(exchange, routingKey, message.content, message.options, (error: unknown) => {
        if (!error) done(CONFIRMED)
        else if (errorMessage(error).includes('nack'))
          done(new Error('the broker refused the message (nack)'))
        else done(new Unconfirmed(errorMessage(error)))
      })
      if (!ok && !this.drained) {
        // The socket buffer is full: hold further sends until it drains (or the channel dies).
        this.drained = new Promise<void>((resolve) => {
          const finish = () => {
            confirm.off('drain', finish)
            confirm.off('close', finish)
            this.drained = undefined
            resolve()
          }
          confirm.on('drain', finish)
          confirm.on('close', finish)
        })
      }
    } catch (error) {
      // amqplib throws synchronously on a closed channel, and a RangeError on oversized header tables.
      done(error instanceof RangeError ? error : new Unconfirmed(errorMessage(error)))
    }
  }

  private confirmChannel(model: ChannelModel): Promise<ConfirmChannel> {
    if (this.channel && this.channelOf === model) return this.channel
    this.channelOf = model
    const opening = model.createConfirmChannel().then((ch) => {
      ch.on('error', (error: Error) => {
        // E.g. an exchange deleted behind our back (404): declare again before the resend.
        this.provisioner.forget()
        this.logger.warn('rabbitmq publish channel error', { error: error.message })
      })
      ch.on('close', () => {
        if (this.channel === opening) this.channel = undefined
      })
      // Only must-exist channels publish mandatory; the broker returns such a message before it confirms it.
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
    if (channel) await (await channel.catch(() => undefined))?.close().catch(() => undefined)
  }
}

/** `mandatory`: the broker returns the message when no queue takes it instead of dropping it unseen. */
function mandatory(message: OutgoingMessage): OutgoingMessage {
  return { content: message.content, options: { ...message.options, mandatory: true } }
}

function failed(channel: Channel, event: Envelope, cause: unknown): OmnibusError {
  if (cause instanceof OmnibusError && cause.code !== 'TRANSPORT_UNAVAILABLE') return cause
  return new OmnibusError(
    'PUBLISH_FAILED',
    `[omnibus] [rabbitmq] event ${event.id} to "${channel.name}" was not confirmed by the broker: ${errorMessage(cause)}`,
    { cause },
  )
}

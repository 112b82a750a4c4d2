import type { Envelope } from '@omnibus/core'
import {
  adapterError,
  Backpressure,
  type Channel,
  channelNotFound,
  errorMessage,
  OmnibusError,
  PendingConfirms,
  PromiseCache,
  ResendLine,
  withDeadline,
} from '@omnibus/core/adapter'
import type { ChannelModel, ConfirmChannel, Message } from 'amqplib'
import { toAmqp } from './rabbitmq-binding.js'
import type { Shared } from './rabbitmq-connection.js'

/**
 * What became of one message: confirmed, returned (no queue took it), nacked (the broker did not
 * take it, e.g. a quorum queue without a leader), lost with its channel or connection before the
 * broker said yes or no (it may have been stored: a resend may duplicate it), or refused for good.
 */
type Outcome = 'confirmed' | 'returned' | 'nacked' | 'lost' | Error

/** A message of a publish not yet confirmed. */
type Pending = { readonly event: Envelope; readonly message: ReturnType<typeof toAmqp> }

/**
 * A connection's confirm channel, its write buffer, and its batches waiting for answers: a retired
 * channel closes once none is left, so a nack on one queue never cuts other queues' answers short.
 */
type Confirming = {
  readonly ch: ConfirmChannel
  readonly buffer: Backpressure
  batches: number
  retired: boolean
}

/**
 * Publishing with publisher confirms on one confirm channel per connection: all sends of a batch
 * first, then their confirms (one round trip). A message nacked (a quorum queue without a leader),
 * or whose channel or connection went away before the answer (once the connection is back: a
 * possible duplicate, never a loss), is sent again in order (ResendLine: while a channel fails,
 * its publishes wait in line behind one message probing with backoff). No confirm into the void:
 * where a queue must take the message (a queue channel, or a topic whose groups this transport
 * declared or saw) it goes out `mandatory`, and one the broker returns unrouted (its queue or
 * exchange deleted) makes the channel and those groups be declared again before it is resent; a
 * must-exist channel then rejects CHANNEL_NOT_FOUND. After `publishTimeoutMs` the publish rejects
 * (withDeadline) and leaves its line, waits and resends.
 */
export class RabbitMQPublisher {
  /**
   * The confirm channel of each connection, opened on first use and forgotten when it closes, with
   * its write buffer: while it is full, sends wait for 'drain' (or the channel's end).
   */
  private readonly channels = new PromiseCache<Confirming, ChannelModel>()
  /**
   * Topics whose exchange was deleted under us: until a publish is routed again, one no queue takes
   * rejects CHANNEL_NOT_FOUND (their consumers elsewhere lost their bindings) instead of a confirm.
   */
  private readonly vanished = new Set<string>()
  /** Ids of messages the broker returned; a return comes before its confirm. */
  private readonly returned = new Set<string>()
  /** Resends per channel, in order; probes 50 ms apart at first, at most 500 ms apart: a leader moves in seconds. */
  private readonly line: ResendLine<Pending>

  constructor(private readonly shared: Shared) {
    const say = { failing: 'publishes nacked; resending them in order', back: 'publishes confirmed again' }
    this.line = new ResendLine({ minMs: 50, maxMs: 500, logger: shared.logger, say })
  }

  async publish(channel: Channel, events: readonly Envelope[]): Promise<void> {
    const { publishTimeoutMs, mode } = this.shared.settings
    const pending = events.map((event) => ({ event, message: toAmqp(event, mode) }))
    const send = (signal: AbortSignal) =>
      this.line.send(
        channel.name,
        pending,
        (items, written) => this.attempt(channel, items, written, signal),
        signal,
      )
    await withDeadline(send, publishTimeoutMs, () => `[rabbitmq] event ${events[0]!.id} to "${channel.name}"`)
  }

  /**
   * Sends `pending` once, calling `written` once all are handed to the channel; resolves with those
   * to send again (nacked, lost, returned), or rejects.
   */
  private async attempt(
    channel: Channel,
    pending: readonly Pending[],
    written: () => void,
    signal: AbortSignal,
  ) {
    const { link, provisioner, settings } = this.shared
    const model = await link.ready(signal)
    let confirm: Confirming
    try {
      // A channel that must exist is never declared (it is an asker's reply queue).
      if (!channel.mustExist) await provisioner.forPublish(model, channel)
      confirm = await this.channels.get(model, () => this.open(model))
    } catch (error) {
      if (link.current !== model) return pending // the connection dropped meanwhile: wait for the next one
      throw failed(channel, pending[0]!.event, error)
    }
    const known = channel.kind === 'queue' || provisioner.groups.has(channel.name)
    const mandatory = known || this.vanished.has(channel.name)
    confirm.batches++
    const outcomes = await this.batch(confirm, channel, pending, mandatory, written, signal).finally(() => {
      if (--confirm.batches === 0 && confirm.retired) close(confirm)
    })
    if (outcomes.includes('nacked')) this.retire(model, confirm)
    const retry: Pending[] = []
    for (const [i, outcome] of outcomes.entries()) {
      if (outcome === 'confirmed' || signal.aborted) continue
      if (outcome === 'returned') {
        // Nothing this transport can declare again would take it: say so rather than confirm it to nobody.
        if (channel.mustExist || !settings.declare || !known) throw notFound(channel, settings.declare)
        provisioner.declared.clear()
      } else if (outcome === 'nacked') this.line.failed(channel.name, 'the broker refused a message (nack)')
      else if (outcome !== 'lost') throw failed(channel, pending[i]!.event, outcome)
      retry.push(pending[i]!)
    }
    if (retry.length === 0 && !signal.aborted) this.vanished.delete(channel.name) // routed again: its consumers are back
    return retry
  }

  /** Sends `pending` in order and resolves with each one's outcome (or on abort, those so far). */
  private async batch(
    { ch, buffer }: Confirming,
    channel: Channel,
    pending: readonly Pending[],
    mandatory: boolean,
    written: () => void,
    signal: AbortSignal,
  ): Promise<readonly (Outcome | undefined)[]> {
    const confirms = new PendingConfirms<Outcome>(pending.length, signal)
    const exchange = channel.kind === 'topic' ? channel.name : ''
    for (let i = 0; i < pending.length && !signal.aborted; i++) {
      const { event, message } = pending[i]!
      // amqplib may report a message twice (a throw, then the channel's close): the first word counts.
      const done = (outcome: Outcome) =>
        confirms.settle(i, outcome === 'confirmed' && this.returned.delete(event.id) ? 'returned' : outcome)
      try {
        const key = channel.kind === 'topic' ? event.type : channel.name
        message.options.mandatory = mandatory // the options are this message's own: no copy per send
        const ok = ch.publish(exchange, key, message.content, message.options, (error: unknown) => {
          if (!error) done('confirmed')
          else done(errorMessage(error).includes('nack') ? 'nacked' : 'lost')
        })
        buffer.sent(ok)
      } catch (error) {
        // amqplib throws synchronously on a closed channel, and a RangeError on oversized header tables.
        done(error instanceof RangeError ? error : 'lost')
      }
      if (buffer.full) await buffer.room(signal)
    }
    written()
    return confirms.all
  }

  /**
   * Opens another confirm channel for the next sends, and closes `ch` once its sends are answered.
   * After a nack: a channel opened just as a quorum queue's leader died can keep that dead leader
   * and nack every publish until it is back (RabbitMQ 3.10; a new channel finds the new leader).
   */
  private retire(model: ChannelModel, confirming: Confirming): void {
    if (confirming.retired) return
    confirming.retired = true
    // Forgotten only if still the connection's current one (a channel still opening that fails is
    // the next publish's error, not an unhandled rejection here).
    void this.channels.peek(model)?.then(
      (current) => current === confirming && this.channels.forget(model),
      () => undefined,
    )
    if (confirming.batches === 0) close(confirming)
  }

  private async open(model: ChannelModel): Promise<Confirming> {
    const ch = await model.createConfirmChannel()
    ch.on('error', (error: Error) => {
      // E.g. an exchange deleted behind our back (404): declare again before the resend.
      this.shared.provisioner.declared.clear()
      const exchange = /NOT_FOUND - no exchange '(.*)' in vhost/.exec(error.message)?.[1]
      if (exchange !== undefined) this.vanished.add(exchange)
      this.shared.logger.warn('publish channel error', { error: error.message })
    })
    const confirming: Confirming = { ch, buffer: new Backpressure(ch), batches: 0, retired: false }
    ch.on('close', () => this.retire(model, confirming))
    ch.on('return', (returned: Message) => this.returned.add(String(returned.properties.messageId)))
    return confirming
  }
}

function close({ ch }: Confirming): void {
  ch.close().catch(() => undefined)
}

/** No queue took a message, and none this transport can declare again would. */
function notFound(channel: Channel, declare: boolean): OmnibusError {
  const what = `a queue of channel "${channel.name}" to take the message`
  if (channel.mustExist || !declare) return channelNotFound('rabbitmq', what, channel.mustExist)
  const lost = `no queue of "${channel.name}" took the message; none this transport knows can be declared again`
  return adapterError('rabbitmq', 'CHANNEL_NOT_FOUND', `${lost}: its consumers must subscribe again`)
}

function failed(channel: Channel, event: Envelope, cause: unknown): OmnibusError {
  if (cause instanceof OmnibusError && cause.code !== 'TRANSPORT_UNAVAILABLE') return cause
  const what = `event ${event.id} to "${channel.name}" was not confirmed by the broker`
  return adapterError('rabbitmq', 'PUBLISH_FAILED', what, cause)
}

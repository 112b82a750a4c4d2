/**
 * The query protocol, both sides, in one place. A query carries `replyto` (the asker's own
 * temporary reply queue on that transport) and `deadline`; the answer is an event
 * `<type>.reply` with `correlationid` = the query's id and `replystatus` `ok` or `error`.
 * The asker: Replies (its reply queues and the questions waiting). The answerer: queryExpired
 * (skip what nobody waits for) and sendAnswer (one answer, whatever happens).
 */
import { createEnvelopeWith, type Envelope, Ext } from '../envelope/envelope.js'
import {
  EnvelopeError,
  errorMessage,
  MessageTooLargeError,
  OmnibusError,
  QueryFailedError,
  QueryTimeoutError,
} from '../errors.js'
import type { Logger } from '../logger.js'
import type { GuardedTransport } from '../transport/guarded.js'
import type { Channel, Delivery, Subscription } from '../transport/transport.js'

/** What the asker adds to a query: where to answer, and until when an answer is of use. */
export function queryAttributes(replyTo: Channel, timeoutMs: number): Record<string, string> {
  return { [Ext.replyTo]: replyTo.name, [Ext.deadline]: new Date(Date.now() + timeoutMs).toISOString() }
}

/** The asker has given up on `query` (its deadline passed): answering it would be wasted. */
export function queryExpired(query: Envelope): boolean {
  const deadline = query[Ext.deadline]
  return typeof deadline === 'string' && Date.parse(deadline) < Date.now()
}

/** A handler's outcome for a query: its return value, or the message of what it threw. */
export type Outcome = { data: unknown } | { error: string }

/**
 * Sends the answer to `query` through `publish` (the transport it came on). The asker's reply
 * queue must exist (mustExist): when the asker has stopped it is gone, and the answer is
 * dropped. An answer that cannot be encoded or is too large would fail the same way on every
 * redelivery, so the asker gets the reason instead, once; other failures (the broker) reject,
 * and the query is redelivered.
 */
export async function sendAnswer(
  query: Envelope,
  outcome: Outcome,
  answerer: {
    source: string
    logger: Logger
    publish: (channel: Channel, events: readonly Envelope[]) => Promise<void>
  },
): Promise<void> {
  const { source, logger, publish } = answerer
  const replyTo = query[Ext.replyTo]
  if (typeof replyTo !== 'string') {
    logger.warn('query without replyto; answer dropped', { id: query.id, type: query.type })
    return
  }
  const channel: Channel = { name: replyTo, kind: 'queue', mustExist: true }
  const replyOf = (result: Outcome) => {
    const failed = 'error' in result
    return createEnvelopeWith(
      'event',
      {
        type: `${query.type}.reply`,
        source,
        correlationid: query.id,
        causationid: query.id,
        data: failed ? { message: result.error } : result.data,
      },
      undefined,
      { [Ext.replyStatus]: failed ? 'error' : 'ok' },
    )
  }
  try {
    await publish(channel, [replyOf(outcome)])
  } catch (error) {
    if (error instanceof OmnibusError && error.code === 'CHANNEL_NOT_FOUND') {
      logger.debug('reply queue is gone (its asker stopped); reply dropped', { replyTo })
      return
    }
    if (!(error instanceof EnvelopeError || error instanceof MessageTooLargeError)) throw error
    const reason = `the answer could not be sent: ${errorMessage(error)}`
    logger.warn('answer could not be sent; the asker gets the reason', {
      id: query.id,
      type: query.type,
      reason,
    })
    await publish(channel, [replyOf({ error: reason })])
  }
}

interface Pending {
  readonly type: string
  resolve(data: unknown): void
  reject(error: Error): void
  timer: ReturnType<typeof setTimeout>
}

/**
 * The asking side of queries: one reply queue per bus instance and transport,
 * made on first use and removed at stop, and a table of questions waiting for
 * answers, matched by `correlationid`.
 */
export class Replies {
  private readonly queues = new Map<GuardedTransport, Promise<{ channel: Channel; sub: Subscription }>>()
  private readonly pending = new Map<string, Pending>()

  constructor(
    private readonly baseName: string,
    private readonly logger: Logger,
  ) {}

  /** The reply channel on `transport`, subscribing to it the first time. */
  async channelFor(transport: GuardedTransport): Promise<Channel> {
    let queue = this.queues.get(transport)
    if (!queue) {
      const channel: Channel = { name: this.baseName, kind: 'queue' }
      queue = transport
        .subscribe(channel, channel.name, (d) => this.onReply(d), { maxInFlight: 64, temporary: true })
        .then((sub) => ({ channel, sub }))
      queue.catch(() => this.queues.delete(transport))
      this.queues.set(transport, queue)
    }
    return (await queue).channel
  }

  /** Waits for the answer to `query` (already sent), or rejects at the timeout. */
  expect(query: Envelope, timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(query.id)
        reject(new QueryTimeoutError(query.type, timeoutMs))
      }, timeoutMs)
      this.pending.set(query.id, { type: query.type, resolve, reject, timer })
    })
  }

  /** Forgets a question whose query could not be sent. */
  cancel(queryId: string): void {
    const pending = this.pending.get(queryId)
    if (pending) clearTimeout(pending.timer)
    this.pending.delete(queryId)
  }

  private async onReply(delivery: Delivery): Promise<void> {
    const reply = delivery.event
    const id = reply?.[Ext.correlationId]
    const pending = typeof id === 'string' ? this.pending.get(id) : undefined
    if (!reply || !pending || typeof id !== 'string') {
      this.logger.debug('reply for no waiting query (late, or not a reply); dropped', {
        correlationid: id,
      })
      return
    }
    this.pending.delete(id)
    clearTimeout(pending.timer)
    let data: unknown
    try {
      data = reply.data
    } catch (error) {
      // JSON data is parsed when first read: an answer whose data does not parse fails its query.
      pending.reject(error as Error)
      return
    }
    if (reply[Ext.replyStatus] === 'error') {
      const message = (data as { message?: unknown } | undefined)?.message
      pending.reject(new QueryFailedError(pending.type, String(message ?? 'the answering handler failed')))
    } else {
      pending.resolve(data)
    }
  }

  /** Rejects every waiting query and removes the reply queues. */
  async close(): Promise<void> {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer)
      pending.reject(new OmnibusError('BUS_STATE', `query ${pending.type} abandoned: the bus stopped`))
      this.pending.delete(id)
    }
    const queues = [...this.queues.values()]
    this.queues.clear()
    await Promise.allSettled(queues.map(async (q) => (await q).sub.close()))
  }
}

import { type Envelope, Ext } from '../envelope/envelope.js'
import { OmnibusError, QueryFailedError, QueryTimeoutError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { GuardedTransport } from '../transport/guarded.js'
import type { Channel, Delivery, Subscription } from '../transport/transport.js'

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

import { PublishQueues } from './publish-queues.js'

export interface SettleBatchOptions<E> {
  /** Most settles in one batch call (SQS: 10). */
  readonly maxItems: number
  /** Batch calls of one kind in flight at once; more settles gather behind them. */
  readonly concurrency: number
  /** One batch call for settles of one kind (say `ack`, `nack`, `renew`); may throw. */
  send(kind: string, entries: E[]): Promise<void>
  /** A batch call threw. It is not retried: the broker gives the messages out again after their lease. */
  onError(kind: string, error: unknown, entries: E[]): void
}

/**
 * A pull consumer's settles (acknowledgements, give-backs, lease renewals) for a broker whose
 * settle calls take batches (SQS DeleteMessageBatch, Pub/Sub's acknowledge): settles of one kind
 * made together leave together, and more gather while calls are in flight. A failed call is
 * reported, not retried, which at-least-once delivery allows. `flush()` resolves once every settle
 * asked for so far was answered (before a subscription closes, or a receive that must see them).
 */
export class SettleBatches<E> {
  private readonly lines: PublishQueues<E>

  constructor(private readonly options: SettleBatchOptions<E>) {
    this.lines = new PublishQueues<E>({
      maxItems: options.maxItems,
      send: (kind, entries) => this.send(kind, entries),
    })
  }

  push(kind: string, entry: E): void {
    // Never rejects: send() reports failures instead of throwing them.
    void this.lines.push(kind, [entry], this.options.concurrency)
  }

  flush(): Promise<void> {
    return this.lines.idle()
  }

  private async send(kind: string, entries: E[]): Promise<undefined> {
    try {
      await this.options.send(kind, entries)
    } catch (error) {
      this.options.onError(kind, error, entries)
    }
    return undefined
  }
}

import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs'
import type { Logger } from '@omnibus/core'
import { errorMessage, PublishQueues } from '@omnibus/core/adapter'
import { isQueueMissing, isUnreachable } from './aws-errors.js'

/** What one settle asks: undefined deletes the message (acknowledged), seconds make it visible again then. */
interface Entry {
  readonly receiptHandle: string
  readonly visibility?: number
}

/** Batch calls of one kind in flight at once per subscription; more settles gather behind them. */
const CONCURRENCY = 4

/**
 * Settles received messages in batches (the toolkit's PublishQueues, one line for deletes and one
 * for visibility changes): DeleteMessageBatch for acknowledged ones, ChangeMessageVisibilityBatch
 * for rejected ones (0: redeliver now) and for extending the ones whose handlers are still
 * running. Settles made together leave together, and more gather while calls are in flight. A
 * settle that fails is logged, not retried: the message then comes back after its visibility
 * timeout, which at-least-once delivery allows.
 */
export class AwsSettler {
  private readonly lines = new PublishQueues<Entry>({
    maxItems: 10,
    send: (kind, entries) => this.send(kind === 'delete', entries),
  })

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: () => Promise<string>,
    private readonly logger: Logger,
  ) {}

  // push() never rejects here: send() does not throw.
  delete(receiptHandle: string): void {
    void this.lines.push('delete', [{ receiptHandle }], CONCURRENCY)
  }

  changeVisibility(receiptHandle: string, seconds: number): void {
    void this.lines.push('visibility', [{ receiptHandle, visibility: seconds }], CONCURRENCY)
  }

  /** Resolves when every settle asked for so far has been answered. */
  flush(): Promise<void> {
    return this.lines.idle()
  }

  /** One batch call; never throws (see the class comment). */
  private async send(del: boolean, batch: Entry[]): Promise<undefined> {
    const what = del ? 'delete' : 'visibility change'
    try {
      const QueueUrl = await this.queueUrl()
      const Entries = batch.map((e, i) => ({
        Id: String(i),
        ReceiptHandle: e.receiptHandle,
        VisibilityTimeout: e.visibility,
      }))
      const { Failed = [] } = await this.sqs.send(
        del
          ? new DeleteMessageBatchCommand({ QueueUrl, Entries })
          : new ChangeMessageVisibilityBatchCommand({ QueueUrl, Entries }),
      )
      if (Failed.length > 0) {
        const failed = Failed.map((f) => `${f.Code}: ${f.Message}`).slice(0, 3)
        this.logger.warn(`${what} failed for some messages; they may come again`, { failed })
      }
    } catch (error) {
      // A vanished queue took its messages along: nothing left to settle. An unreachable broker
      // is the consumer's to report (once per outage), not once per settle.
      if (isQueueMissing(error)) return
      this.logger[isUnreachable(error) ? 'debug' : 'warn'](`${what} failed; the messages may come again`, {
        count: batch.length,
        error: errorMessage(error),
      })
    }
  }
}

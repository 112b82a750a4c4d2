import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs'
import type { Logger } from '@omnibus/core'
import { PublishQueues } from '@omnibus/core/adapter'
import { errorMessage, isQueueMissing, isUnreachable } from './aws-errors.js'

interface Entry {
  readonly receiptHandle: string
  /** Undefined: delete the message (acknowledged). A number: make it visible again after that many seconds. */
  readonly visibility?: number
}

/**
 * Settles received messages in batches (the toolkit's PublishQueues, one line per kind):
 * DeleteMessageBatch for acknowledged ones, ChangeMessageVisibilityBatch for rejected ones
 * (0: redeliver now) and for extending the ones whose handlers are still running. A settle that
 * fails is logged, not retried: the message then comes back after its visibility timeout, which
 * at-least-once delivery allows.
 */
export class AwsSettler {
  private readonly pending = new Set<Promise<void>>()
  private readonly lines = new PublishQueues<Entry>({
    maxItems: 10,
    send: (kind, batch) => this.send(kind === 'delete', batch),
  })

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: () => Promise<string>,
    private readonly logger: Logger,
  ) {}

  delete(receiptHandle: string): void {
    this.track(this.lines.push('delete', [{ receiptHandle }], 4))
  }

  changeVisibility(receiptHandle: string, visibility: number): void {
    this.track(this.lines.push('visibility', [{ receiptHandle, visibility }], 4))
  }

  /** Resolves when every settle asked for so far has been answered. */
  async flush(): Promise<void> {
    await Promise.all([...this.pending])
  }

  private track(settle: Promise<void>): void {
    const tracked = settle.catch(() => undefined)
    this.pending.add(tracked)
    void tracked.then(() => this.pending.delete(tracked))
  }

  private async send(del: boolean, batch: Entry[]): Promise<undefined> {
    const Entries = batch.map((e, i) => ({
      Id: String(i),
      ReceiptHandle: e.receiptHandle,
      VisibilityTimeout: e.visibility,
    }))
    try {
      const QueueUrl = await this.queueUrl()
      const { Failed = [] } = await this.sqs.send(
        del
          ? new DeleteMessageBatchCommand({ QueueUrl, Entries })
          : new ChangeMessageVisibilityBatchCommand({ QueueUrl, Entries }),
      )
      if (Failed.length > 0) {
        const failed = Failed.map((f) => `${f.Code}: ${f.Message}`).slice(0, 3)
        this.logger.warn(
          `${del ? 'delete' : 'visibility change'} failed for some messages; they may come again`,
          { failed },
        )
      }
    } catch (error) {
      // A vanished queue took its messages along: nothing left to settle. An unreachable broker
      // is the consumer's to report (once per outage), not once per settle.
      if (isQueueMissing(error)) return
      this.logger[isUnreachable(error) ? 'debug' : 'warn'](
        `${del ? 'delete' : 'visibility change'} failed; the messages may come again`,
        {
          count: batch.length,
          error: errorMessage(error),
        },
      )
    }
  }
}

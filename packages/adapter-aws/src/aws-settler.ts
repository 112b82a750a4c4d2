import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs'
import type { Logger } from '@omnibus/core'
import { errorMessage, isQueueMissing, isUnreachable } from './aws-errors.js'

const MAX_BATCH = 10
/** How long a settled message may wait for others to share its request. Short: FIFO groups wait on it. */
const LINGER_MS = 15

interface Entry {
  readonly receiptHandle: string
  /** Undefined: delete the message (acknowledged). A number: make it visible again after that many seconds. */
  readonly visibility: number | undefined
}

/**
 * Settles received messages in batches: DeleteMessageBatch for acknowledged ones,
 * ChangeMessageVisibilityBatch for rejected ones (0: redeliver now) and for
 * extending the ones whose handlers are still running. A settle that fails is
 * logged, not retried: the message then comes back after its visibility timeout,
 * which at-least-once delivery allows.
 */
export class AwsSettler {
  private readonly entries: Entry[] = []
  private timer: NodeJS.Timeout | undefined
  private readonly inFlight = new Set<Promise<void>>()

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: () => Promise<string>,
    private readonly logger: Logger,
  ) {}

  delete(receiptHandle: string): void {
    this.add({ receiptHandle, visibility: undefined })
  }

  changeVisibility(receiptHandle: string, seconds: number): void {
    this.add({ receiptHandle, visibility: seconds })
  }

  /** Sends what is waiting and resolves when every request has answered. */
  async flush(): Promise<void> {
    this.sendAll()
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight])
  }

  private add(entry: Entry): void {
    this.entries.push(entry)
    if (this.entries.length >= MAX_BATCH) this.sendAll()
    else this.timer ??= setTimeout(() => this.sendAll(), LINGER_MS)
  }

  private sendAll(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    const deletes = this.entries.filter((e) => e.visibility === undefined)
    const changes = this.entries.filter((e) => e.visibility !== undefined)
    this.entries.length = 0
    for (let i = 0; i < deletes.length; i += MAX_BATCH)
      this.track(this.send(deletes.slice(i, i + MAX_BATCH), true))
    for (let i = 0; i < changes.length; i += MAX_BATCH)
      this.track(this.send(changes.slice(i, i + MAX_BATCH), false))
  }

  private track(request: Promise<void>): void {
    this.inFlight.add(request)
    void request.finally(() => this.inFlight.delete(request))
  }

  private async send(batch: Entry[], del: boolean): Promise<void> {
    try {
      const QueueUrl = await this.queueUrl()
      const result = del
        ? await this.sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl,
              Entries: batch.map((e, i) => ({ Id: String(i), ReceiptHandle: e.receiptHandle })),
            }),
          )
        : await this.sqs.send(
            new ChangeMessageVisibilityBatchCommand({
              QueueUrl,
              Entries: batch.map((e, i) => ({
                Id: String(i),
                ReceiptHandle: e.receiptHandle,
                VisibilityTimeout: e.visibility,
              })),
            }),
          )
      if (result.Failed && result.Failed.length > 0) {
        this.logger.warn(
          `${del ? 'delete' : 'visibility change'} failed for some messages; they may come again`,
          {
            failed: result.Failed.map((f) => `${f.Code}: ${f.Message}`).slice(0, 3),
          },
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

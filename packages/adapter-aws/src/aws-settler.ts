import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs'
import type { Logger } from '@omnibus/core'
import { errorMessage, SettleBatches } from '@omnibus/core/adapter'
import { isQueueMissing, isUnreachable } from './aws-errors.js'

/** What one settle asks: `delete` it (acknowledged), or make it visible again after `visibility` seconds. */
export interface SqsSettle {
  readonly receiptHandle: string
  readonly visibility?: number
}

/** Batch calls of one kind in flight at once per subscription; more settles gather behind them. */
const CONCURRENCY = 4

/**
 * Settles received messages in batches (the toolkit's SettleBatches, kinds `delete` and
 * `visibility`): DeleteMessageBatch for acknowledged ones, ChangeMessageVisibilityBatch for
 * rejected ones (0: redeliver now) and for extending the ones whose handlers are still running.
 * A settle that fails is logged, not retried: the message then comes back after its visibility
 * timeout, which at-least-once delivery allows.
 */
export function sqsSettles(
  sqs: SQSClient,
  queueUrl: () => Promise<string>,
  logger: Logger,
): SettleBatches<SqsSettle> {
  const what = (kind: string) => (kind === 'delete' ? 'delete' : 'visibility change')
  return new SettleBatches<SqsSettle>({
    maxItems: 10,
    concurrency: CONCURRENCY,
    send: async (kind, batch) => {
      const QueueUrl = await queueUrl()
      const Entries = batch.map((e, i) => ({
        Id: String(i),
        ReceiptHandle: e.receiptHandle,
        VisibilityTimeout: e.visibility,
      }))
      const { Failed = [] } = await sqs.send(
        kind === 'delete'
          ? new DeleteMessageBatchCommand({ QueueUrl, Entries })
          : new ChangeMessageVisibilityBatchCommand({ QueueUrl, Entries }),
      )
      if (Failed.length > 0) {
        const failed = Failed.map((f) => `${f.Code}: ${f.Message}`).slice(0, 3)
        logger.warn(`${what(kind)} failed for some messages; they may come again`, { failed })
      }
    },
    onError: (kind, error, batch) => {
      // A vanished queue took its messages along: nothing left to settle. An unreachable broker
      // is the consumer's to report (once per outage), not once per settle.
      if (isQueueMissing(error)) return
      logger[isUnreachable(error) ? 'debug' : 'warn'](`${what(kind)} failed; the messages may come again`, {
        count: batch.length,
        error: errorMessage(error),
      })
    },
  })
}

import { PublishBatchCommand, type SNSClient } from '@aws-sdk/client-sns'
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs'
import { type Channel, type Envelope, type Logger, OmnibusError, Semaphore, sleep } from '@omnibus/core'
import { encodeEvent, MAX_MESSAGE_BYTES, type OutgoingMessage } from './aws-binding.js'
import { awsError, isQueueMissing, isTopicMissing, isUnreachable } from './aws-errors.js'
import type { AwsProvisioner } from './aws-provisioner.js'

/** SNS PublishBatch and SQS SendMessageBatch take at most 10 entries, 256 KiB in all. */
const MAX_BATCH = 10
/** Tries for entries a batch call reported as failed (throttling, internal errors) before giving up. */
const ENTRY_ATTEMPTS = 3

/**
 * Batch calls in flight, shared by every transport of this process that talks to the same
 * endpoint: many buses in one process (tests, or one per tenant) then cannot flood the
 * service with publishes while their consumers wait their turn; an emulator such as moto,
 * whose cost per message grows with queue depth, depends on consumers keeping up.
 */
const sharedLimits = new Map<string, Semaphore>()

function sharedLimit(key: string, limit: number): Semaphore {
  const full = `${key}|${limit}`
  let semaphore = sharedLimits.get(full)
  if (!semaphore) {
    semaphore = new Semaphore(limit)
    sharedLimits.set(full, semaphore)
  }
  return semaphore
}

/** The reply queue was removed between the publish call and its batch. */
class ReplyQueueGone extends Error {}

interface Pending {
  readonly message: OutgoingMessage
  resolve(): void
  reject(error: unknown): void
}

interface Outcome {
  readonly failed: { readonly id: string; readonly senderFault: boolean; readonly reason: string }[]
}

/**
 * Publishes through the batch calls. Publishes to one channel that overlap in
 * time are coalesced: while a batch call is in flight, new events queue up and
 * leave together in the next one, so 5,000 concurrent publishes cost a few
 * hundred requests instead of 5,000. Each event's promise settles with its own
 * entry's outcome.
 */
export class AwsPublisher {
  private readonly lines = new Map<string, { queue: Pending[]; running: number }>()
  private readonly slots: Semaphore

  constructor(
    private readonly sns: SNSClient,
    private readonly sqs: SQSClient,
    private readonly provisioner: AwsProvisioner,
    private readonly logger: Logger,
    /** Batch calls in flight at once (FIFO channels: one per channel, so that order holds). */
    private readonly concurrency: number,
    /** Who shares the limit: transports of this process with the same endpoint and region. */
    endpointKey: string,
  ) {
    this.slots = sharedLimit(endpointKey, concurrency)
  }

  /** Resolves when every event was accepted; otherwise rejects naming the events that were not. */
  async publish(channel: Channel, events: readonly Envelope[]): Promise<void> {
    const fifo = this.provisioner.fifo(channel)
    // Resolve the destination first, so a missing channel (provision: false) rejects as CHANNEL_NOT_FOUND.
    if (channel.reply) {
      if ((await this.provisioner.replyQueueUrl(channel)) === undefined) return this.dropReply(channel)
    } else if (channel.kind === 'topic') await this.provisioner.topicArn(channel)
    else await this.provisioner.queueUrl(channel)
    const line = this.line(channel)
    const outcomes = await Promise.allSettled(
      events.map(
        (event) =>
          new Promise<void>((resolve, reject) => {
            line.queue.push({ message: encodeEvent(event, fifo), resolve, reject })
            this.pump(channel, fifo, line)
          }),
      ),
    )
    const failed = outcomes.flatMap((o, i) =>
      o.status === 'rejected' ? [{ id: events[i]!.id, error: o.reason as unknown }] : [],
    )
    if (failed.length === 0) return
    const first = failed[0]!.error
    if (first instanceof OmnibusError && first.code === 'CHANNEL_NOT_FOUND') throw first
    const why = isUnreachable(first) ? '; SNS/SQS could not be reached' : ''
    throw awsError(
      'PUBLISH_FAILED',
      `${failed.length} of ${events.length} event(s) to channel "${channel.name}" were not confirmed${why}, so they ` +
        `may not have been sent: ${failed.map((f) => f.id).join(', ')}; publish them again`,
      first,
    )
  }

  private line(channel: Channel): { queue: Pending[]; running: number } {
    const key = `${channel.kind}:${channel.name}`
    let line = this.lines.get(key)
    if (!line) {
      line = { queue: [], running: 0 }
      this.lines.set(key, line)
    }
    return line
  }

  private pump(channel: Channel, fifo: boolean, line: { queue: Pending[]; running: number }): void {
    const parallel = fifo ? 1 : this.concurrency
    while (line.running < parallel && line.queue.length > 0) {
      const batch: Pending[] = []
      let bytes = 0
      while (batch.length < MAX_BATCH && line.queue.length > 0) {
        const size = line.queue[0]!.message.size
        if (batch.length > 0 && bytes + size > MAX_MESSAGE_BYTES) break
        batch.push(line.queue.shift()!)
        bytes += size
      }
      line.running++
      void this.sendBatch(channel, batch).finally(() => {
        line.running--
        if (line.running === 0 && line.queue.length === 0)
          this.lines.delete(`${channel.kind}:${channel.name}`)
        else this.pump(channel, fifo, line)
      })
    }
  }

  /** Sends one batch, retrying the entries that failed for reasons other than the request itself. */
  private async sendBatch(channel: Channel, batch: Pending[]): Promise<void> {
    let remaining = batch
    let remade = false
    for (let attempt = 1; remaining.length > 0; attempt++) {
      let outcome: Outcome
      try {
        await this.slots.acquire()
        try {
          outcome = await this.send(
            channel,
            remaining.map((p) => p.message),
          )
        } finally {
          this.slots.release()
        }
      } catch (error) {
        let failure = error
        // A reply queue is never made again: its asker removed it, so nobody waits for the reply.
        if (channel.reply && (error instanceof ReplyQueueGone || isQueueMissing(error))) {
          this.provisioner.forgetGroup(channel, channel.name)
          this.dropReply(channel)
          for (const p of remaining) p.resolve()
          return
        }
        // The broker lost the channel (a restart of an emulator, or someone deleted it): make it again, once.
        if (!remade && this.provisioner.provisioning && (isTopicMissing(error) || isQueueMissing(error))) {
          remade = true
          this.logger.warn('[aws] channel vanished; provisioning it again', { channel: channel.name })
          try {
            await this.remake(channel)
            attempt--
            continue
          } catch (remakeError) {
            failure = remakeError
          }
        }
        for (const p of remaining) p.reject(failure)
        return
      }
      const failedIds = new Map(outcome.failed.map((f) => [f.id, f]))
      const retry: Pending[] = []
      for (const [i, p] of remaining.entries()) {
        const failure = failedIds.get(String(i))
        if (!failure) p.resolve()
        else if (failure.senderFault || attempt >= ENTRY_ATTEMPTS) p.reject(new Error(failure.reason))
        else retry.push(p)
      }
      if (retry.length > 0) await sleep(50 * 4 ** (attempt - 1))
      remaining = retry
    }
  }

  private dropReply(channel: Channel): void {
    this.logger.debug('[aws] reply queue is gone (its asker stopped); reply dropped', {
      channel: channel.name,
    })
  }

  private async remake(channel: Channel): Promise<void> {
    if (channel.kind === 'topic') await this.provisioner.remakeTopic(channel)
    else {
      this.provisioner.forgetGroup(channel, channel.name)
      await this.provisioner.queueUrl(channel)
    }
  }

  private async send(channel: Channel, messages: OutgoingMessage[]): Promise<Outcome> {
    // SNS and SQS batches differ only in the body's field name and the destination.
    const entry = (m: OutgoingMessage, i: number) => ({
      Id: String(i),
      MessageAttributes: m.attributes,
      MessageGroupId: m.groupId,
      MessageDeduplicationId: m.deduplicationId,
    })
    if (channel.kind === 'topic') {
      const arn = await this.provisioner.topicArn(channel)
      const result = await this.sns.send(
        new PublishBatchCommand({
          TopicArn: arn,
          PublishBatchRequestEntries: messages.map((m, i) => ({ ...entry(m, i), Message: m.body })),
        }),
      )
      return outcome(result.Failed)
    }
    const url = channel.reply
      ? await this.provisioner.replyQueueUrl(channel)
      : await this.provisioner.queueUrl(channel)
    if (url === undefined) throw new ReplyQueueGone()
    const result = await this.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: messages.map((m, i) => ({ ...entry(m, i), MessageBody: m.body })),
      }),
    )
    return outcome(result.Failed)
  }
}

/** The entries a batch call reported as failed, in the form the retry loop reads. */
function outcome(
  failed: readonly { Id?: string; SenderFault?: boolean; Code?: string; Message?: string }[] | undefined,
): Outcome {
  return {
    failed: (failed ?? []).map((f) => ({
      id: f.Id ?? '',
      senderFault: f.SenderFault === true,
      reason: `${f.Code}: ${f.Message}`,
    })),
  }
}

import { PublishBatchCommand, type SNSClient } from '@aws-sdk/client-sns'
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs'
import { type Envelope, type Logger, OmnibusError } from '@omnibus/core'
import { BatchFailure, type Channel, PublishQueues, Semaphore, sleep } from '@omnibus/core/adapter'
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

interface Entry {
  readonly channel: Channel
  readonly message: OutgoingMessage
}

/**
 * Publishes through the batch calls. Publishes to one channel that overlap in time are
 * coalesced (the toolkit's PublishQueues): while a batch call is in flight, new events queue
 * up and leave together in the next one, so 5,000 concurrent publishes cost a few hundred
 * requests instead of 5,000. Each publish settles with its own events' outcome.
 */
export class AwsPublisher {
  private readonly slots: Semaphore
  private readonly queues = new PublishQueues<Entry>({
    maxItems: MAX_BATCH,
    maxBytes: MAX_MESSAGE_BYTES,
    sizeOf: (entry) => entry.message.size,
    // The first event leaves at once: waiting to gather a whole call first made moto slower.
    eager: true,
    send: (_destination, entries) => this.sendBatch(entries[0]!.channel, entries),
  })

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
    // Resolve the destination first, so a missing channel rejects as CHANNEL_NOT_FOUND.
    await this.destination(channel)
    const entries = events.map((event) => ({ channel, message: encodeEvent(event, fifo) }))
    try {
      await this.queues.push(`${channel.kind}:${channel.name}`, entries, fifo ? 1 : this.concurrency)
    } catch (error) {
      const failures = error instanceof BatchFailure ? error.failures : [{ index: 0, error }]
      const first = failures[0]!.error
      if (first instanceof OmnibusError && first.code === 'CHANNEL_NOT_FOUND') throw first
      const why = isUnreachable(first) ? '; SNS/SQS could not be reached' : ''
      throw awsError(
        'PUBLISH_FAILED',
        `${failures.length} of ${events.length} event(s) to channel "${channel.name}" were not confirmed${why}, so they ` +
          `may not have been sent: ${failures.map((f) => events[f.index]!.id).join(', ')}; publish them again`,
        first,
      )
    }
  }

  /** The topic ARN or queue URL; a channel that must exist is looked up, never made. */
  private destination(channel: Channel): Promise<string> {
    if (channel.kind === 'topic') return this.provisioner.topicArn(channel)
    return channel.mustExist ? this.provisioner.existingQueueUrl(channel) : this.provisioner.queueUrl(channel)
  }

  /** Sends one batch, retrying the entries that failed for reasons other than the request itself. */
  private async sendBatch(channel: Channel, batch: Entry[]): Promise<Map<number, unknown>> {
    const failures = new Map<number, unknown>()
    let remaining = batch.map((entry, index) => ({ entry, index }))
    let remade = false
    for (let attempt = 1; remaining.length > 0; attempt++) {
      let failed: Map<string, { senderFault: boolean; reason: string }>
      try {
        await this.slots.acquire()
        try {
          failed = await this.send(
            channel,
            remaining.map((r) => r.entry.message),
          )
        } finally {
          this.slots.release()
        }
      } catch (error) {
        let failure = error
        if (channel.mustExist && isQueueMissing(error)) {
          this.provisioner.forgetGroup(channel, channel.name)
          failure = awsError('CHANNEL_NOT_FOUND', `queue of channel "${channel.name}" is gone`, error)
        } else if (
          !remade &&
          this.provisioner.provisioning &&
          (isTopicMissing(error) || isQueueMissing(error))
        ) {
          // The broker lost the channel (a restart of an emulator, or someone deleted it): make it again, once.
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
        for (const r of remaining) failures.set(r.index, failure)
        return failures
      }
      const retry: typeof remaining = []
      for (const [i, r] of remaining.entries()) {
        const failure = failed.get(String(i))
        if (!failure) continue
        if (failure.senderFault || attempt >= ENTRY_ATTEMPTS) failures.set(r.index, new Error(failure.reason))
        else retry.push(r)
      }
      if (retry.length > 0) await sleep(50 * 4 ** (attempt - 1))
      remaining = retry
    }
    return failures
  }

  private async remake(channel: Channel): Promise<void> {
    if (channel.kind === 'topic') await this.provisioner.remakeTopic(channel)
    else {
      this.provisioner.forgetGroup(channel, channel.name)
      await this.provisioner.queueUrl(channel)
    }
  }

  /** One batch call; resolves with the entries it reported as failed, by entry id. */
  private async send(
    channel: Channel,
    messages: OutgoingMessage[],
  ): Promise<Map<string, { senderFault: boolean; reason: string }>> {
    // SNS and SQS batches differ only in the body's field name and the destination.
    const entry = (m: OutgoingMessage, i: number) => ({
      Id: String(i),
      MessageAttributes: m.attributes,
      MessageGroupId: m.groupId,
      MessageDeduplicationId: m.deduplicationId,
    })
    const destination = await this.destination(channel)
    const result =
      channel.kind === 'topic'
        ? await this.sns.send(
            new PublishBatchCommand({
              TopicArn: destination,
              PublishBatchRequestEntries: messages.map((m, i) => ({ ...entry(m, i), Message: m.body })),
            }),
          )
        : await this.sqs.send(
            new SendMessageBatchCommand({
              QueueUrl: destination,
              Entries: messages.map((m, i) => ({ ...entry(m, i), MessageBody: m.body })),
            }),
          )
    return new Map(
      (result.Failed ?? []).map((f) => [
        f.Id ?? '',
        { senderFault: f.SenderFault === true, reason: `${f.Code}: ${f.Message}` },
      ]),
    )
  }
}

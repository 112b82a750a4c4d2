import { PublishBatchCommand, type SNSClient } from '@aws-sdk/client-sns'
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs'
import type { Envelope } from '@omnibus/core'
import {
  BatchFailure,
  type Channel,
  channelNotFound,
  PublishQueues,
  resend,
  sharedLimit,
  withDeadline,
} from '@omnibus/core/adapter'
import { encodeEvent, MAX_MESSAGE_BYTES, type OutgoingMessage } from './aws-binding.js'
import type { AwsConfig } from './aws-config.js'
import { awsError, isCode, isQueueMissing, isTopicMissing, isTransient, isUnreachable } from './aws-errors.js'
import type { AwsProvisioner } from './aws-provisioner.js'

/** SNS PublishBatch and SQS SendMessageBatch take at most 10 entries, 256 KiB in all. */
const MAX_BATCH = 10

/** An entry SNS/SQS refused in a batch it answered: final when the sender is at fault, else sent again. */
class EntryFailure extends Error {
  constructor(
    reason: string,
    readonly senderFault: boolean,
  ) {
    super(reason)
  }
}

interface Entry {
  readonly channel: Channel
  readonly message: OutgoingMessage
  /** When the caller stops waiting (publishTimeoutMs after its publish began). */
  readonly until: number
}

/**
 * Publishes through the batch calls. Publishes to one channel that overlap in time are
 * coalesced (the toolkit's PublishQueues): while a batch call is in flight, new events queue
 * up and leave together in the next one, so 5,000 concurrent publishes cost a few hundred
 * requests instead of 5,000. Each publish settles with its own events' outcome, within
 * publishTimeoutMs: a batch that failed for a reason that may pass (the broker unreachable,
 * throttled, the channel vanished) is tried again until then, and then gives its slot back.
 */
export class AwsPublisher {
  private readonly slots
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
    private readonly options: AwsConfig,
    /** Who shares the limit: transports of this process with the same endpoint and region. */
    endpointKey: string,
  ) {
    // Shared by every transport of this process on this endpoint: an emulator such as moto, whose cost
    // per message grows with queue depth, depends on consumers keeping up while many buses publish.
    this.slots = sharedLimit(endpointKey, options.publishConcurrency)
  }

  /** Resolves when every event was accepted; otherwise rejects naming the events that were not. */
  async publish(channel: Channel, events: readonly Envelope[]): Promise<void> {
    const fifo = this.provisioner.fifo(channel)
    const { publishTimeoutMs, publishConcurrency } = this.options
    const until = Date.now() + publishTimeoutMs
    const entries = events.map((event) => ({ channel, message: encodeEvent(event, fifo), until }))
    const line = `${channel.kind}:${channel.name}`
    // FIFO channels: one batch call at a time, so that order holds.
    const sent = this.queues.push(line, entries, fifo ? 1 : publishConcurrency)
    const ids = () => `${events.length} event(s) to channel "${channel.name}" (${events.map((e) => e.id)})`
    try {
      await withDeadline(sent, publishTimeoutMs, ids)
    } catch (error) {
      if (!(error instanceof BatchFailure)) throw error
      const first = error.failures[0]!.error
      if (isCode(first, 'CHANNEL_NOT_FOUND')) throw first
      const why = isUnreachable(first) ? '; SNS/SQS could not be reached' : ''
      throw awsError(
        'PUBLISH_FAILED',
        `${error.failures.length} of ${events.length} event(s) to channel "${channel.name}" were not confirmed${why}, so they ` +
          `may not have been sent: ${error.failures.map((f) => events[f.index]!.id).join(', ')}; publish them again`,
        first,
      )
    }
  }

  /**
   * Sends one batch, trying again what failed for a reason that may pass until the last of its
   * callers stopped waiting. A failed call to a topic makes the provisioner check the topic's
   * subscriptions before the next one (no confirm into the void).
   */
  private sendBatch(channel: Channel, batch: Entry[]): Promise<Map<number, unknown>> {
    const until = Math.max(...batch.map((entry) => entry.until))
    return resend(
      batch.map((entry) => entry.message),
      {
        send: async (messages, signal) => {
          const destination = await (channel.kind === 'topic'
            ? this.provisioner.publishTarget(channel)
            : this.provisioner.queueUrl(channel))
          await this.slots.acquire()
          // A request the broker does not answer is abandoned when its callers stop waiting.
          return this.send(channel, destination, messages, signal).finally(() => this.slots.release())
        },
        verdict: (error) => this.mayPass(channel, error),
        backoff: { minMs: 50, maxMs: 1000 },
        signal: AbortSignal.timeout(Math.max(1, until - Date.now())),
      },
    )
  }

  /**
   * After a failure: undefined to try again (having forgotten what the broker may have lost), else
   * the error to fail with. An entry refused in an answered batch is final only by the sender's fault.
   */
  private mayPass(channel: Channel, error: unknown): unknown {
    if (error instanceof EntryFailure) return error.senderFault ? error : undefined
    const gone = isTopicMissing(error) || isQueueMissing(error) || isCode(error, 'CHANNEL_NOT_FOUND')
    if (channel.kind === 'topic') this.provisioner.lost(channel)
    else if (gone) this.provisioner.forgetGroup(channel, channel.name)
    if (gone && (channel.mustExist || !this.options.provision)) {
      const what = `the ${channel.kind} of channel "${channel.name}"`
      return isCode(error, 'CHANNEL_NOT_FOUND')
        ? error
        : channelNotFound('aws', what, channel.mustExist, error)
    }
    return gone || isCode(error, 'TRANSPORT_UNAVAILABLE') || isTransient(error) ? undefined : error
  }

  /** One batch call; resolves with the entries it reported as failed, by index into `messages`. */
  private async send(
    channel: Channel,
    destination: string,
    messages: OutgoingMessage[],
    abortSignal: AbortSignal,
  ): Promise<Map<number, EntryFailure>> {
    // SNS and SQS batches differ only in the body's field name and the destination.
    const entry = (m: OutgoingMessage, i: number) => ({
      Id: String(i),
      MessageAttributes: m.attributes,
      MessageGroupId: m.groupId,
      MessageDeduplicationId: m.deduplicationId,
    })
    const result =
      channel.kind === 'topic'
        ? await this.sns.send(
            new PublishBatchCommand({
              TopicArn: destination,
              PublishBatchRequestEntries: messages.map((m, i) => ({ ...entry(m, i), Message: m.body })),
            }),
            { abortSignal },
          )
        : await this.sqs.send(
            new SendMessageBatchCommand({
              QueueUrl: destination,
              Entries: messages.map((m, i) => ({ ...entry(m, i), MessageBody: m.body })),
            }),
            { abortSignal },
          )
    const failed = result.Failed ?? []
    return new Map(
      failed.map((f) => [Number(f.Id), new EntryFailure(`${f.Code}: ${f.Message}`, f.SenderFault === true)]),
    )
  }
}

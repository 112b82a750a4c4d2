import { PublishBatchCommand, type SNSClient } from '@aws-sdk/client-sns'
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs'
import type { Envelope } from '@omnibus/core'
import {
  Backoff,
  BatchFailure,
  type Channel,
  channelNotFound,
  PublishQueues,
  pause,
  Semaphore,
  withDeadline,
} from '@omnibus/core/adapter'
import { encodeEvent, MAX_MESSAGE_BYTES, type OutgoingMessage } from './aws-binding.js'
import type { AwsConfig } from './aws-config.js'
import { awsError, isCode, isQueueMissing, isTopicMissing, isTransient, isUnreachable } from './aws-errors.js'
import type { AwsProvisioner } from './aws-provisioner.js'

/** SNS PublishBatch and SQS SendMessageBatch take at most 10 entries, 256 KiB in all. */
const MAX_BATCH = 10

/**
 * Batch calls in flight, shared by every transport of this process that talks to the same
 * endpoint: many buses in one process (tests, or one per tenant) then cannot flood the
 * service with publishes while their consumers wait their turn; an emulator such as moto,
 * whose cost per message grows with queue depth, depends on consumers keeping up.
 */
const sharedLimits = new Map<string, Semaphore>()

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
    private readonly options: AwsConfig,
    /** Who shares the limit: transports of this process with the same endpoint and region. */
    endpointKey: string,
  ) {
    const key = `${endpointKey}|${options.publishConcurrency}`
    this.slots = sharedLimits.get(key) ?? new Semaphore(options.publishConcurrency)
    sharedLimits.set(key, this.slots)
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
  private async sendBatch(channel: Channel, batch: Entry[]): Promise<Map<number, unknown>> {
    const until = Math.max(...batch.map((entry) => entry.until))
    const failures = new Map<number, unknown>()
    const backoff = new Backoff(50, 1000)
    let remaining = batch.map((entry, index) => ({ entry, index }))
    let last: unknown
    while (remaining.length > 0 && Date.now() < until) {
      let failed: Map<string, { senderFault: boolean; reason: string }>
      try {
        const destination = await (channel.kind === 'topic'
          ? this.provisioner.publishTarget(channel)
          : this.provisioner.queueUrl(channel))
        const messages = remaining.map((r) => r.entry.message)
        await this.slots.acquire()
        // A request the broker does not answer is abandoned when its callers stop waiting.
        const signal = AbortSignal.timeout(Math.max(1, until - Date.now()))
        failed = await this.send(channel, destination, messages, signal).finally(() => this.slots.release())
      } catch (error) {
        last = this.mayPass(channel, error)
        if (last !== undefined) break
        last = error
        await pause(Math.min(backoff.next(), until - Date.now()))
        continue
      }
      backoff.reset()
      const retry: typeof remaining = []
      for (const [i, r] of remaining.entries()) {
        const failure = failed.get(String(i))
        if (failure?.senderFault) failures.set(r.index, new Error(failure.reason))
        else if (failure) retry.push(r)
      }
      remaining = retry
      if (retry.length > 0) await pause(Math.min(backoff.next(), until - Date.now()))
    }
    const timeout = `not confirmed within publishTimeoutMs (${this.options.publishTimeoutMs} ms)`
    for (const r of remaining) failures.set(r.index, last ?? awsError('PUBLISH_FAILED', timeout))
    return failures
  }

  /**
   * After a failed batch call: undefined to try again (having forgotten what the broker may have
   * lost), else the error to fail with.
   */
  private mayPass(channel: Channel, error: unknown): unknown {
    const gone = isTopicMissing(error) || isQueueMissing(error) || isCode(error, 'CHANNEL_NOT_FOUND')
    if (channel.kind === 'topic') this.provisioner.lost(channel)
    else if (gone) this.provisioner.forgetGroup(channel, channel.name)
    if (gone && (channel.mustExist || !this.options.provision)) {
      if (isCode(error, 'CHANNEL_NOT_FOUND')) return error
      return channelNotFound(
        'aws',
        `the ${channel.kind} of channel "${channel.name}"`,
        channel.mustExist,
        error,
      )
    }
    return gone || isCode(error, 'TRANSPORT_UNAVAILABLE') || isTransient(error) ? undefined : error
  }

  /** One batch call; resolves with the entries it reported as failed, by entry id. */
  private async send(
    channel: Channel,
    destination: string,
    messages: OutgoingMessage[],
    abortSignal: AbortSignal,
  ): Promise<Map<string, { senderFault: boolean; reason: string }>> {
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
    return new Map(
      (result.Failed ?? []).map((f) => [
        f.Id ?? '',
        { senderFault: f.SenderFault === true, reason: `${f.Code}: ${f.Message}` },
      ]),
    )
  }
}

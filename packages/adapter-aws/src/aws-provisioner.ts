import {
  CreateTopicCommand,
  ListTopicsCommand,
  type SNSClient,
  SubscribeCommand,
  UnsubscribeCommand,
} from '@aws-sdk/client-sns'
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs'
import type { Channel } from '@omnibus/core/adapter'
import { PromiseCache } from '@omnibus/core/adapter'
import type { ResolvedAwsOptions } from './aws-config.js'
import { awsError, isQueueMissing, isTopicMissing, isUnreachable } from './aws-errors.js'
import { groupQueueName, resourceName } from './aws-names.js'

/** Where a group reads from: its SQS queue, and for a topic channel the subscription feeding it. */
export interface GroupQueue {
  readonly url: string
  readonly name: string
  readonly subscriptionArn?: string
}

/**
 * Makes topics, queues and subscriptions exist, once per process (results are
 * cached), idempotently (CreateTopic, CreateQueue and Subscribe return what is
 * already there). `forget*` drops cached results after the broker lost them, so
 * the next call makes them again. With `provision: false` it only looks things
 * up, and a missing one is CHANNEL_NOT_FOUND.
 */
export class AwsProvisioner {
  private readonly topics = new PromiseCache<string>()
  private readonly queues = new PromiseCache<GroupQueue>()
  /** Queues of must-exist channels, found by name (never made here); a miss is asked again next time. */
  private readonly found = new PromiseCache<string>()
  /** The groups this process made on each topic channel, to re-make them when the topic vanished. */
  private readonly groupsByTopic = new Map<string, Set<string>>()

  constructor(
    private readonly sns: SNSClient,
    private readonly sqs: SQSClient,
    private readonly options: ResolvedAwsOptions,
  ) {}

  /** False when configured to look resources up only (`provision: false`). */
  get provisioning(): boolean {
    return this.options.provision
  }

  fifo(channel: Channel): boolean {
    return this.options.isFifo(channel.name)
  }

  /** The ARN of a topic channel's SNS topic. */
  topicArn(channel: Channel): Promise<string> {
    return this.topics.get(channel.name, () => this.makeTopic(channel))
  }

  /** The SQS queue a group reads (a queue channel's own queue, whatever the group). */
  groupQueue(channel: Channel, group: string): Promise<GroupQueue> {
    if (channel.kind === 'queue') return this.queues.get(channel.name, () => this.makeQueue(channel))
    const groups = this.groupsByTopic.get(channel.name) ?? new Set<string>()
    this.groupsByTopic.set(channel.name, groups.add(group))
    return this.queues.get(`${channel.name}\0${group}`, () => this.makeGroupQueue(channel, group))
  }

  /** The queue a queue channel publishes to. */
  queueUrl(channel: Channel): Promise<string> {
    return this.groupQueue(channel, channel.name).then((queue) => queue.url)
  }

  /** A queue channel's URL, looked up and never made (Channel.mustExist); CHANNEL_NOT_FOUND when missing. */
  existingQueueUrl(channel: Channel): Promise<string> {
    const made = this.queues.peek(channel.name)
    if (made) return made.then((queue) => queue.url)
    const name = resourceName(this.options.namePrefix, channel.name, this.fifo(channel))
    return this.found.get(channel.name, async () => {
      try {
        return (await this.sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!
      } catch (error) {
        throw this.failure(error, `queue "${name}" of channel "${channel.name}"`, false)
      }
    })
  }

  /** After a queue vanished: forget it (and its topic, which usually went with it). */
  forgetGroup(channel: Channel, group: string): void {
    if (channel.kind === 'queue') {
      this.queues.forget(channel.name)
      this.found.forget(channel.name)
    } else {
      this.queues.forget(`${channel.name}\0${group}`)
      this.topics.forget(channel.name)
    }
  }

  /** After a topic vanished: make it again, with every group this process had on it, so they keep receiving. */
  async remakeTopic(channel: Channel): Promise<string> {
    this.topics.forget(channel.name)
    for (const group of this.groupsByTopic.get(channel.name) ?? [])
      this.queues.forget(`${channel.name}\0${group}`)
    const arn = await this.topicArn(channel)
    await Promise.all(
      [...(this.groupsByTopic.get(channel.name) ?? [])].map((g) => this.groupQueue(channel, g)),
    )
    return arn
  }

  /** Removes a subscriber's own queue (a query reply queue) and its subscription. Best effort on vanished ones. */
  async remove(channel: Channel, group: string): Promise<void> {
    const key = channel.kind === 'queue' ? channel.name : `${channel.name}\0${group}`
    const queue = await this.queues.peek(key)?.catch(() => undefined)
    this.queues.forget(key)
    this.groupsByTopic.get(channel.name)?.delete(group)
    if (!queue) return
    if (queue.subscriptionArn) {
      await this.sns
        .send(new UnsubscribeCommand({ SubscriptionArn: queue.subscriptionArn }))
        .catch(() => undefined)
    }
    try {
      await this.sqs.send(new DeleteQueueCommand({ QueueUrl: queue.url }))
    } catch (error) {
      if (!isQueueMissing(error)) throw error
    }
  }

  private async makeTopic(channel: Channel): Promise<string> {
    const fifo = this.fifo(channel)
    const name = resourceName(this.options.namePrefix, channel.name, fifo)
    try {
      if (!this.options.provision) return await this.findTopic(channel, name)
      const attributes: Record<string, string> = fifo
        ? { FifoTopic: 'true', ContentBasedDeduplication: 'false' }
        : {}
      const result = await this.sns.send(new CreateTopicCommand({ Name: name, Attributes: attributes }))
      return result.TopicArn!
    } catch (error) {
      throw this.failure(error, `SNS topic "${name}" for channel "${channel.name}"`)
    }
  }

  /** Without provisioning there is no ARN to guess (it holds the account id), so look the name up. */
  private async findTopic(channel: Channel, name: string): Promise<string> {
    let NextToken: string | undefined
    do {
      const page = await this.sns.send(new ListTopicsCommand({ NextToken }))
      const found = page.Topics?.find((t) => t.TopicArn?.endsWith(`:${name}`))
      if (found?.TopicArn) return found.TopicArn
      NextToken = page.NextToken
    } while (NextToken)
    throw awsError(
      'CHANNEL_NOT_FOUND',
      `SNS topic "${name}" for channel "${channel.name}" does not exist and provisioning is off ` +
        '(provision: false); create it, or turn provisioning on',
    )
  }

  private async makeQueue(channel: Channel): Promise<GroupQueue> {
    const name = resourceName(this.options.namePrefix, channel.name, this.fifo(channel))
    try {
      return { url: await this.ensureQueue(name, this.fifo(channel)), name }
    } catch (error) {
      throw this.failure(error, `SQS queue "${name}" for channel "${channel.name}"`)
    }
  }

  private async makeGroupQueue(channel: Channel, group: string): Promise<GroupQueue> {
    const fifo = this.fifo(channel)
    const name = groupQueueName(this.options.namePrefix, channel.name, group, fifo)
    const topicArn = await this.topicArn(channel)
    try {
      const url = await this.ensureQueue(name, fifo)
      if (!this.options.provision) return { url, name }
      const attrs = await this.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
      )
      const queueArn = attrs.Attributes?.QueueArn
      if (!queueArn) throw new Error(`GetQueueAttributes returned no QueueArn for ${url}`)
      // The queue belongs to this one topic: let it, and only it, deliver here.
      const policy = {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'omnibus-sns-delivery',
            Effect: 'Allow',
            Principal: { Service: 'sns.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Resource: queueArn,
            Condition: { ArnEquals: { 'aws:SourceArn': topicArn } },
          },
        ],
      }
      await this.sqs.send(
        new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { Policy: JSON.stringify(policy) } }),
      )
      const subscription = await this.sns.send(
        new SubscribeCommand({
          TopicArn: topicArn,
          Protocol: 'sqs',
          Endpoint: queueArn,
          Attributes: { RawMessageDelivery: 'true' },
          ReturnSubscriptionArn: true,
        }),
      )
      const result: GroupQueue = { url, name }
      return subscription.SubscriptionArn
        ? { ...result, subscriptionArn: subscription.SubscriptionArn }
        : result
    } catch (error) {
      throw this.failure(error, `SQS queue "${name}" of group "${group}" on channel "${channel.name}"`)
    }
  }

  private async ensureQueue(name: string, fifo: boolean): Promise<string> {
    if (!this.options.provision) {
      return (await this.sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!
    }
    // Only the attribute that cannot change: CreateQueue fails on an existing queue whose
    // attributes differ, and the visibility timeout is given on every receive instead.
    const attributes: Record<string, string> = fifo ? { FifoQueue: 'true' } : {}
    return (await this.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes })))
      .QueueUrl!
  }

  private failure(error: unknown, what: string, provisioning = true) {
    if (error instanceof Error && error.message.startsWith('[omnibus]')) return error
    if (isQueueMissing(error) || isTopicMissing(error)) {
      const why = provisioning
        ? 'provisioning is off (provision: false); create it, or turn provisioning on'
        : 'publishing never creates this channel'
      return awsError('CHANNEL_NOT_FOUND', `${what} does not exist and ${why}`, error)
    }
    if (isUnreachable(error)) {
      return awsError(
        'TRANSPORT_UNAVAILABLE',
        `cannot reach SNS/SQS to set up ${what}; is the endpoint up?`,
        error,
      )
    }
    return awsError(
      'PROVISIONING_FAILED',
      `could not set up ${what}; check the IAM permissions and the name`,
      error,
    )
  }
}

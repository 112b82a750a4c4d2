import {
  CreateTopicCommand,
  paginateListSubscriptionsByTopic,
  paginateListTopics,
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
import {
  type Channel,
  channelNotFound,
  KnownGroups,
  PromiseCache,
  provisioningFailure,
} from '@omnibus/core/adapter'
import type { AwsConfig } from './aws-config.js'
import { isQueueMissing, isTopicMissing, isTransient, isUnreachable } from './aws-errors.js'
import { groupQueueName, resourceName } from './aws-names.js'

/** Where a group reads from: its SQS queue, and for a topic channel the subscription feeding it. */
export interface GroupQueue {
  readonly url: string
  readonly name: string
  readonly subscriptionArn?: string
}

/** A group's queue in the cache: a queue channel has one, whatever the group. */
const queueKey = (channel: Channel, group: string) =>
  channel.kind === 'queue' ? channel.name : `${channel.name}\0${group}`

/** How often a publisher looks again at which queues a topic feeds, to learn of groups that joined since. */
const LOOK_AGAIN_MS = 30_000

/**
 * Makes topics, queues and subscriptions exist, once per process (results are cached),
 * idempotently (CreateTopic, CreateQueue and Subscribe return what is already there). `forget*`
 * and `lost` drop cached results after the broker lost them, so the next call makes them again.
 * With `provision: false` it only looks things up, and a missing one is CHANNEL_NOT_FOUND.
 *
 * No confirm into the void (docs/ADAPTERS.md): per topic it keeps the names of the queues known
 * to be subscribed to it, those of groups provisioned or subscribed here and those it saw on the
 * broker (ListSubscriptionsByTopic). A publisher gets the topic from `publishTarget`, which
 * re-subscribes every one of them that is missing before it resolves, the first time and again
 * after any failed publish (`lost`): a topic deleted or forgotten by a restarting broker is not
 * confirmed into until the queues that fed from it do again.
 */
export class AwsProvisioner {
  private readonly topics = new PromiseCache<string>()
  /** Topic ARNs fit to publish to (every known queue subscribed). */
  private readonly ready = new PromiseCache<string>()
  private readonly lookedAt = new Map<string, number>()
  /** The queues known to feed from each topic (by channel name). */
  private readonly known = new KnownGroups()
  private readonly queues = new PromiseCache<GroupQueue>()

  constructor(
    private readonly sns: SNSClient,
    private readonly sqs: SQSClient,
    private readonly options: AwsConfig,
  ) {}

  fifo(channel: Channel): boolean {
    return this.options.isFifo(channel.name)
  }

  /** The ARN of a topic channel's SNS topic (made, or with provisioning off found). */
  topicArn(channel: Channel): Promise<string> {
    return this.topics.get(channel.name, () => this.makeTopic(channel))
  }

  /** The topic to publish to, with every queue known to feed from it subscribed (see the class comment). */
  publishTarget(channel: Channel): Promise<string> {
    const made = this.ready.get(channel.name, async () => {
      const arn = await this.topicArn(channel)
      if (!this.options.provision) return arn
      // Without leave to list subscriptions (AccessDenied), only this transport's own groups are known.
      const subscribed = await this.lookAt(channel, arn).catch((error: unknown) => {
        if (isTransient(error)) throw error
        return new Set<string>()
      })
      const missing = this.known.of(channel.name).filter((name) => !subscribed.has(name))
      await Promise.all(missing.map((name) => this.subscribeQueue(channel, arn, name)))
      return arn
    })
    if (Date.now() - (this.lookedAt.get(channel.name) ?? Date.now()) > LOOK_AGAIN_MS) {
      this.lookedAt.set(channel.name, Date.now())
      void made.then((arn) => this.lookAt(channel, arn)).catch(() => undefined)
    }
    return made
  }

  /** After a failed publish to a topic (vanished, or the broker unreachable): check it all again first. */
  lost(channel: Channel): void {
    this.ready.forget(channel.name)
    this.topics.forget(channel.name)
  }

  /** The SQS queue a group reads (a queue channel's own queue, whatever the group). */
  groupQueue(channel: Channel, group: string): Promise<GroupQueue> {
    if (channel.kind === 'queue') return this.queues.get(channel.name, () => this.makeQueue(channel))
    return this.queues.get(queueKey(channel, group), async () => {
      const name = groupQueueName(this.options.namePrefix, channel.name, group, this.fifo(channel))
      this.known.add(channel.name, name, name)
      if (!this.options.provision) return { url: await this.queueUrlOf(name, channel), name }
      return this.subscribeQueue(channel, await this.topicArn(channel), name)
    })
  }

  /** The queue a queue channel publishes to; a must-exist one is looked up, never made (CHANNEL_NOT_FOUND). */
  async queueUrl(channel: Channel): Promise<string> {
    return (await this.groupQueue(channel, channel.name)).url
  }

  /** After a queue vanished: forget it (and its topic, which usually went with it). */
  forgetGroup(channel: Channel, group: string): void {
    this.queues.forget(queueKey(channel, group))
    if (channel.kind === 'topic') this.lost(channel)
  }

  /** Removes a subscriber's own queue (a query reply queue) and its subscription. Best effort on vanished ones. */
  async remove(channel: Channel, group: string): Promise<void> {
    const queue = await this.queues.peek(queueKey(channel, group))?.catch(() => undefined)
    this.queues.forget(queueKey(channel, group))
    if (!queue) return
    this.known.remove(channel.name, queue.name)
    if (queue.subscriptionArn) {
      await this.sns
        .send(new UnsubscribeCommand({ SubscriptionArn: queue.subscriptionArn }))
        .catch(() => undefined)
    }
    await this.sqs.send(new DeleteQueueCommand({ QueueUrl: queue.url })).catch((error: unknown) => {
      if (!isQueueMissing(error)) throw error
    })
  }

  /** The names of the queues subscribed to the topic now, which become known. */
  private async lookAt(channel: Channel, topicArn: string): Promise<Set<string>> {
    const names = new Set<string>()
    for await (const page of paginateListSubscriptionsByTopic({ client: this.sns }, { TopicArn: topicArn })) {
      for (const s of page.Subscriptions ?? []) {
        if (s.Protocol === 'sqs' && s.Endpoint) names.add(s.Endpoint.slice(s.Endpoint.lastIndexOf(':') + 1))
      }
    }
    for (const name of names) this.known.add(channel.name, name, name)
    this.lookedAt.set(channel.name, Date.now())
    return names
  }

  private async makeTopic(channel: Channel): Promise<string> {
    const fifo = this.fifo(channel)
    const name = resourceName(this.options.namePrefix, channel.name, fifo)
    try {
      if (!this.options.provision) return await this.findTopic(channel, name)
      const Attributes = fifo ? { FifoTopic: 'true', ContentBasedDeduplication: 'false' } : undefined
      return (await this.sns.send(new CreateTopicCommand({ Name: name, Attributes }))).TopicArn!
    } catch (error) {
      throw this.failure(error, `SNS topic "${name}" for channel "${channel.name}"`)
    }
  }

  /** Without provisioning there is no ARN to guess (it holds the account id), so look the name up. */
  private async findTopic(channel: Channel, name: string): Promise<string> {
    for await (const page of paginateListTopics({ client: this.sns }, {})) {
      const found = page.Topics?.find((t) => t.TopicArn?.endsWith(`:${name}`))
      if (found?.TopicArn) return found.TopicArn
    }
    throw channelNotFound('aws', `SNS topic "${name}" for channel "${channel.name}"`, false)
  }

  private async makeQueue(channel: Channel): Promise<GroupQueue> {
    const name = resourceName(this.options.namePrefix, channel.name, this.fifo(channel))
    // A must-exist channel (an asker's reply queue) is looked up, never made; a miss is asked again next time.
    const lookOnly = !this.options.provision || channel.mustExist
    if (lookOnly) return { url: await this.queueUrlOf(name, channel, channel.mustExist), name }
    try {
      return { url: await this.createQueue(name), name }
    } catch (error) {
      throw this.failure(error, `SQS queue "${name}" for channel "${channel.name}"`)
    }
  }

  private async queueUrlOf(name: string, channel: Channel, mustExist = false): Promise<string> {
    try {
      return (await this.sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!
    } catch (error) {
      throw this.failure(error, `SQS queue "${name}" of channel "${channel.name}"`, mustExist)
    }
  }

  /** Only the attribute that cannot change: CreateQueue fails on an existing queue whose attributes differ. */
  private async createQueue(name: string): Promise<string> {
    const Attributes: Record<string, string> = name.endsWith('.fifo') ? { FifoQueue: 'true' } : {}
    return (await this.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes }))).QueueUrl!
  }

  /** Makes the queue, lets the topic (and only it) send to it, and subscribes it with raw delivery. */
  private async subscribeQueue(channel: Channel, topicArn: string, name: string): Promise<GroupQueue> {
    try {
      const url = await this.createQueue(name)
      const { Attributes } = await this.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
      )
      const queueArn = Attributes?.QueueArn
      if (!queueArn) throw new Error(`GetQueueAttributes returned no QueueArn for ${url}`)
      const Statement = [
        {
          Sid: 'omnibus-sns-delivery',
          Effect: 'Allow',
          Principal: { Service: 'sns.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: queueArn,
          Condition: { ArnEquals: { 'aws:SourceArn': topicArn } },
        },
      ]
      const Policy = JSON.stringify({ Version: '2012-10-17', Statement })
      await this.sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: { Policy } }))
      const { SubscriptionArn } = await this.sns.send(
        new SubscribeCommand({
          TopicArn: topicArn,
          Protocol: 'sqs',
          Endpoint: queueArn,
          Attributes: { RawMessageDelivery: 'true' },
          ReturnSubscriptionArn: true,
        }),
      )
      return SubscriptionArn ? { url, name, subscriptionArn: SubscriptionArn } : { url, name }
    } catch (error) {
      throw this.failure(error, `SQS queue "${name}" subscribed to channel "${channel.name}"`)
    }
  }

  private failure(error: unknown, what: string, mustExist = false) {
    const missing = isQueueMissing(error) || isTopicMissing(error)
    const kind = missing ? 'missing' : isUnreachable(error) ? 'unreachable' : 'other'
    return provisioningFailure('aws', what, error, kind, 'the IAM permissions and the name', mustExist)
  }
}

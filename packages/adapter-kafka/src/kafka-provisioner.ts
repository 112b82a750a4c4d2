import type { Logger } from '@omnibus/core'
import {
  adapterError,
  brokerName,
  type Channel,
  channelNotFound,
  describeError,
  KeyedSerial,
  logBacklog,
  PromiseCache,
  pause,
  retrying,
  type StartPosition,
} from '@omnibus/core/adapter'
import type { KafkaConfig } from './kafka-config.js'
import type { KafkaDriver } from './kafka-driver.js'
import { errorText } from './kafka-security.js'

/**
 * Kafka topic names allow [a-zA-Z0-9._-] and 249 characters. A channel name that fits is used
 * as is; any other gets its other characters replaced by `_`, is cut to length and carries a
 * hash of the original, so two channels never collide.
 */
export function topicName(channel: string): string {
  const reserved = channel === '' || channel === '.' || channel === '..'
  return brokerName(
    channel,
    { invalid: /[^a-zA-Z0-9._-]/g, maxLength: 249, hashLength: 10 },
    { changed: reserved },
  )
}

/**
 * One Kafka group per channel and group: a group whose members read different topics gets
 * partitions assigned across all of them, and a rebalance of one channel would pause every
 * other. A queue channel has one fixed group (core passes the channel's name); `@` never
 * occurs in topic names, so the two shapes cannot collide.
 */
export function groupIdFor(prefix: string, channel: Channel, group: string, topic: string): string {
  return channel.kind === 'queue' ? `${prefix}${topic}` : `${prefix}${group}@${topic}`
}

// Start positions of one group are worked out one at a time in this process, so that two
// members subscribing together do not both commit a "latest" read at different moments.
const groupStarts = new KeyedSerial()

/**
 * The cluster's metadata has not caught up with a change yet: a broker that has not heard of a
 * just-created topic, a partition without a leader yet. Clients retry these in a send, not in
 * admin calls; on a cluster they come right after creating a topic (conformance case 8 failed so).
 */
export const METADATA_LAG =
  /UNKNOWN_TOPIC_OR_PARTITION|LEADER_NOT_AVAILABLE|NOT_LEADER|not the leader|does not host this topic-partition|waiting for topic leaders/i

/**
 * How long a group's start position is retried through passing states: a coordinator still
 * loading after a broker restart, a leader not yet elected for a new topic. On a loaded cluster
 * these outlast ten quick attempts (CI failed so); a refusal that will not pass fails at once.
 */
const GROUP_START_PATIENCE_MS = 45_000

/**
 * Members of the group are active (Kafka refuses outside commits), its coordinator is moving or
 * loading (kafkajs names COORDINATOR_LOAD_IN_PROGRESS by its old name, GROUP_LOAD_IN_PROGRESS), or
 * the topic is new.
 */
const retriable = (error: unknown) =>
  /ILLEGAL_GENERATION|UNKNOWN_MEMBER_ID|REBALANCE_IN_PROGRESS|running instances|generation|NOT_COORDINATOR|COORDINATOR_NOT_AVAILABLE|COORDINATOR_LOAD_IN_PROGRESS|GROUP_LOAD_IN_PROGRESS/i.test(
    errorText(error),
  ) || METADATA_LAG.test(errorText(error))

/**
 * Topics and group positions. Topics are created on demand (once per transport, then cached);
 * a new group of a topic channel gets its start position committed before its first member
 * joins, so the position is durable: a group that subscribed once and stopped still finds
 * everything published since (Kafka's own "latest" reset would skip it).
 */
export class KafkaProvisioner {
  private readonly topics = new PromiseCache<void>()
  private readonly replication = new PromiseCache<{ factor: number; minIsr: number | undefined }>()

  constructor(
    private readonly driver: KafkaDriver,
    private readonly config: KafkaConfig,
    private readonly logger: Logger,
  ) {}

  /** Makes sure `topic` exists: creates it (provisioning on) or checks for it (off). Cached per topic. */
  ensureTopic(topic: string): Promise<void> {
    return this.topics.get(topic, () => (this.config.provision ? this.create(topic) : this.check(topic)))
  }

  /**
   * Replication and min.insync.replicas of new topics: given, or following the cluster's size
   * (min(3, brokers), min ISR 2 from 3 replicas on), so that on a cluster a write confirmed
   * with acks=all is on two nodes and survives the loss of any one.
   */
  private replicationOf() {
    return this.replication.get('', async () => {
      const { replicationFactor, minInsyncReplicas } = this.config
      const factor = replicationFactor ?? Math.min(3, (await this.driver.brokerCount()) || 1)
      return { factor, minIsr: minInsyncReplicas ?? (factor >= 3 ? 2 : undefined) }
    })
  }

  private async create(topic: string): Promise<void> {
    const { partitions, maxMessageBytes } = this.config
    let factor: number | undefined
    try {
      const replication = await this.replicationOf()
      factor = replication.factor
      const configs: { name: string; value: string }[] = []
      // Kafka's default limit is 1 MiB + 12 bytes of framing; only a larger limit needs the topic setting.
      if (maxMessageBytes > 1024 * 1024)
        configs.push({ name: 'max.message.bytes', value: String(maxMessageBytes + 1024) })
      if (replication.minIsr !== undefined)
        configs.push({ name: 'min.insync.replicas', value: String(replication.minIsr) })
      if (await this.driver.createTopic(topic, partitions, factor, configs))
        this.logger.debug('topic created', { topic, partitions, replicationFactor: factor })
    } catch (error) {
      if (/already exists/i.test(errorText(error))) return
      // Created, but the wait for leaders asked a broker that has not seen it yet (not retried
      // without auto.create.topics.enable, as on most production clusters).
      if (METADATA_LAG.test(errorText(error)) && (await this.appears(topic))) return
      throw adapterError(
        'kafka',
        'PROVISIONING_FAILED',
        `could not create topic "${topic}" (${partitions} partitions, replication ${factor ?? '?'}). ` +
          'Check the client may create topics, that replicationFactor fits the cluster, ' +
          'or create the topic yourself and set provision: false',
        error,
      )
    }
  }

  /** Waits up to 10 s for a just-created topic to show up in the metadata. */
  private async appears(topic: string): Promise<boolean> {
    for (let waited = 0; waited < 10_000; waited += 100) {
      if (await this.driver.topicExists(topic).catch(() => false)) return true
      await pause(100)
    }
    return false
  }

  /** Whether `topic` exists now, asked of the broker every time: a reply topic can go at any moment. */
  async exists(topic: string): Promise<boolean> {
    try {
      return await this.driver.topicExists(topic)
    } catch (error) {
      throw adapterError(
        'kafka',
        'TRANSPORT_UNAVAILABLE',
        `could not look up topic "${topic}"; is Kafka reachable?`,
        error,
      )
    }
  }

  private async check(topic: string): Promise<void> {
    if (!(await this.exists(topic))) throw channelNotFound('kafka', `topic "${topic}"`, false)
  }

  /**
   * Commits `from` as the start of every partition of `topic` that `groupId` has no position
   * for yet (partitions with one keep it). Returns when the position is durable, or when the
   * group turned out to be active (its members then own its position).
   */
  ensureGroupStart(topic: string, groupId: string, from: StartPosition): Promise<void> {
    return groupStarts.run(`${groupId}\u0000${topic}`, async () => {
      const commitStart = async () => {
        const missing = (await this.driver.committed(groupId, topic)).filter((p) => p.offset < 0)
        if (missing.length === 0) return
        const starts = await this.startOffsets(topic, from)
        const offsets = new Map(missing.map((p) => [p.partition, starts.get(p.partition) ?? 0]))
        await this.driver.commitFromOutside(groupId, topic, offsets)
        this.logger.debug('group start committed', { groupId, topic })
      }
      const giveUpAt = Date.now() + GROUP_START_PATIENCE_MS
      try {
        const retryIf = (error: unknown) => Date.now() < giveUpAt && retriable(error)
        await retrying(commitStart, { minMs: 100, maxMs: 3_000, retryIf })
      } catch (failure) {
        throw adapterError(
          'kafka',
          'PROVISIONING_FAILED',
          `could not set the start position of group "${groupId}" on topic "${topic}"; ` +
            'is Kafka reachable and may this client commit offsets for the group?',
          failure,
        )
      }
    })
  }

  private async startOffsets(topic: string, from: StartPosition): Promise<Map<number, number>> {
    if (typeof from === 'object') return this.driver.offsetsAt(topic, from.time.getTime())
    const entries = await this.driver.offsets(topic)
    return new Map(entries.map((e) => [e.partition, from === 'earliest' ? e.low : e.high]))
  }

  /** Removes a temporary channel: its topic and its group. Best effort: logs what it could not remove. */
  async remove(topic: string, groupId: string): Promise<void> {
    this.topics.forget(topic)
    await this.driver.deleteTopic(topic).catch((error: unknown) => {
      this.logger.warn('could not delete temporary topic', { topic, reason: describeError(error) })
    })
    await this.driver.deleteGroup(groupId).catch((error: unknown) => {
      this.logger.debug('could not delete temporary group', { groupId, reason: describeError(error) })
    })
  }

  /** Messages the group has not committed past, per partition: the high watermark minus its position. */
  async backlog(topic: string, groupId: string): Promise<number> {
    const [ends, committed] = await Promise.all([
      this.driver.offsets(topic),
      this.driver.committed(groupId, topic),
    ])
    return logBacklog(ends, committed)
  }
}

import { type Channel, type Logger, OmnibusError, type StartPosition } from '@omnibus/core'
import { brokerName, KeyedSerial, retrying } from '@omnibus/core/adapter'
import type { Admin, Kafka } from 'kafkajs'
import type { KafkaSettings } from './kafka-config.js'
import { errorMessageOf } from './kafka-errors.js'

/**
 * Topics and group positions. Topics are created on demand (once per transport,
 * then cached); a new group of a topic channel gets its start position committed
 * before its first member joins, so the position is durable: a group that
 * subscribed once and stopped still finds everything published since.
 */

/**
 * Kafka topic names allow [a-zA-Z0-9._-] and 249 characters. A channel name that
 * fits is used as is; any other gets its other characters replaced by `_`, is cut
 * to length and carries a hash of the original, so two channels never collide.
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
 * One Kafka group per channel and group: a kafkajs group whose members subscribe
 * to different topics gets partitions assigned across all of them, and a
 * rebalance of one channel would pause every other. A queue channel has one
 * fixed group (core passes the channel's name); `@` never occurs in topic names,
 * so the two shapes cannot collide.
 */
export function groupIdFor(prefix: string, channel: Channel, group: string, topic: string): string {
  return channel.kind === 'queue' ? `${prefix}${topic}` : `${prefix}${group}@${topic}`
}

// Start positions of one group are worked out one at a time in this process, so that
// two members subscribing together do not both commit a "latest" read at different moments.
const groupStarts = new KeyedSerial()

type OffsetCommit = (
  groupId: string,
  topic: string,
  partitions: { partition: number; offset: string }[],
) => Promise<void>

interface KafkaCluster {
  connect(): Promise<void>
  disconnect(): Promise<void>
  findGroupCoordinator(args: { groupId: string }): Promise<{
    offsetCommit(args: {
      groupId: string
      groupGenerationId: number
      memberId: string
      topics: { topic: string; partitions: { partition: number; offset: string }[] }[]
    }): Promise<unknown>
  }>
}

/**
 * kafkajs' admin.setOffsets joins the group with a throw-away consumer and waits
 * out a whole fetch (seconds per group). Kafka itself accepts an offset commit
 * from outside the group (generation -1) while the group has no members, which is
 * exactly "provision this group's start". kafkajs has no public call for it, so
 * this uses the cluster factory the Kafka client keeps under a private symbol;
 * should a kafkajs release drop it, provisioning falls back to admin.setOffsets.
 */
function directCommitter(kafka: Kafka): { commit: OffsetCommit; close(): Promise<void> } | undefined {
  const symbol = Object.getOwnPropertySymbols(kafka).find(
    (s) => s.description === 'private:Kafka:createCluster',
  )
  const factory = symbol && (kafka as unknown as Record<symbol, unknown>)[symbol]
  if (typeof factory !== 'function') return undefined
  let cluster: Promise<KafkaCluster> | undefined
  const open = () => {
    cluster ??= (async () => {
      const c = factory({ allowAutoTopicCreation: false }) as KafkaCluster
      await c.connect()
      return c
    })()
    cluster.catch(() => {
      cluster = undefined
    })
    return cluster
  }
  return {
    commit: async (groupId, topic, partitions) => {
      const coordinator = await (await open()).findGroupCoordinator({ groupId })
      await coordinator.offsetCommit({
        groupId,
        groupGenerationId: -1,
        memberId: '',
        topics: [{ topic, partitions }],
      })
    },
    close: async () => {
      const c = cluster
      cluster = undefined
      if (c) await (await c.catch(() => undefined))?.disconnect()
    },
  }
}

/** Members of the group are active: Kafka refuses outside commits then, and their own position stands. */
function groupIsActive(error: unknown): boolean {
  const text = `${(error as { type?: string }).type ?? ''} ${errorMessageOf(error)}`
  return /ILLEGAL_GENERATION|UNKNOWN_MEMBER_ID|REBALANCE_IN_PROGRESS|running instances|generation/i.test(text)
}

/** The group's coordinator is elsewhere or not ready yet (retriable: it moves when nodes come and go). */
function coordinatorMoving(error: unknown): boolean {
  const type = (error as { type?: string }).type ?? ''
  return /^(NOT_COORDINATOR|COORDINATOR_NOT_AVAILABLE|COORDINATOR_LOAD_IN_PROGRESS)/.test(type)
}

/**
 * The cluster's metadata has not caught up with a change yet: a broker that has not heard of a
 * just-created topic ("does not host this topic-partition"), a partition without a leader yet
 * (created, or its leader just lost). kafkajs retries these in a send, not in admin calls.
 */
function metadataLagging(error: unknown): boolean {
  const text = `${(error as { type?: string }).type ?? ''} ${errorMessageOf(error)}`
  return /UNKNOWN_TOPIC_OR_PARTITION|LEADER_NOT_AVAILABLE|NOT_LEADER|does not host this topic-partition|no leader/i.test(
    text,
  )
}

/** Runs `step` again while the cluster's metadata lags (bounded: about 12 s), else fails as it did. */
function whenSettled<T>(step: () => Promise<T>): Promise<T> {
  return retrying(step, {
    minMs: 100,
    maxMs: 1_000,
    onError: (error, _delay, attempt) => {
      if (attempt >= 15 || !metadataLagging(error)) throw error
    },
  }) as Promise<T>
}

export class KafkaProvisioner {
  private readonly topics = new Map<string, Promise<void>>()
  private readonly committer: { commit: OffsetCommit; close(): Promise<void> } | undefined
  private replicationOf: Promise<{ factor: number; minIsr: number | undefined }> | undefined

  constructor(
    kafka: Kafka,
    private readonly admin: Admin,
    private readonly settings: KafkaSettings,
    private readonly logger: Logger,
  ) {
    this.committer = directCommitter(kafka)
  }

  /** Makes sure `topic` exists: creates it (provisioning on) or checks for it (off). Cached per topic. */
  ensureTopic(topic: string): Promise<void> {
    let ready = this.topics.get(topic)
    if (!ready) {
      ready = this.settings.provision ? this.create(topic) : this.check(topic)
      ready.catch(() => this.topics.delete(topic))
      this.topics.set(topic, ready)
    }
    return ready
  }

  /**
   * Replication and min.insync.replicas of new topics: given, or following the cluster's size
   * (replication min(3, brokers), min ISR 2 from 3 replicas on), so that on a cluster a write
   * confirmed with acks=all is on two nodes and survives the loss of any one.
   */
  private replication(): Promise<{ factor: number; minIsr: number | undefined }> {
    this.replicationOf ??= (async () => {
      const { replicationFactor, minInsyncReplicas } = this.settings
      const factor =
        replicationFactor ?? Math.min(3, (await this.admin.describeCluster()).brokers.length || 1)
      return { factor, minIsr: minInsyncReplicas ?? (factor >= 3 ? 2 : undefined) }
    })()
    this.replicationOf.catch(() => {
      this.replicationOf = undefined
    })
    return this.replicationOf
  }

  private async create(topic: string): Promise<void> {
    const { partitions, maxMessageBytes } = this.settings
    let replicationFactor: number | undefined
    try {
      const { factor, minIsr } = await this.replication()
      replicationFactor = factor
      // Kafka's default limit is 1 MiB + 12 bytes of framing; only a larger limit needs the topic setting.
      const configEntries = [
        ...(maxMessageBytes > 1024 * 1024
          ? [{ name: 'max.message.bytes', value: String(maxMessageBytes + 1024) }]
          : []),
        ...(minIsr !== undefined ? [{ name: 'min.insync.replicas', value: String(minIsr) }] : []),
      ]
      const created = await this.admin.createTopics({
        waitForLeaders: false,
        topics: [{ topic, numPartitions: partitions, replicationFactor, configEntries }],
      })
      if (created) this.logger.debug('topic created', { topic, partitions, replicationFactor })
      // Created (by us or by someone else a moment ago), but on a cluster the other brokers learn
      // of it a moment later: wait until it has a leader for every partition.
      await whenSettled(() => this.leaders(topic))
    } catch (error) {
      if (/already exists/i.test(errorMessageOf(error))) return
      throw new OmnibusError(
        'PROVISIONING_FAILED',
        `[omnibus] [kafka] could not create topic "${topic}" (${partitions} partitions, replication ${replicationFactor ?? '?'}): ` +
          `${errorMessageOf(error)}. Check the client may create topics, that replicationFactor fits the cluster, ` +
          'or create the topic yourself and set provision: false',
        { cause: error },
      )
    }
  }

  /** Resolves when every partition of `topic` has a leader; throws LEADER_NOT_AVAILABLE if not. */
  private async leaders(topic: string): Promise<void> {
    const { topics } = await this.admin.fetchTopicMetadata({ topics: [topic] })
    const partitions = topics.find((t) => t.name === topic)?.partitions ?? []
    if (partitions.length > 0 && partitions.every((p) => p.leader >= 0)) return
    throw Object.assign(new Error(`topic "${topic}" has no leader for some partitions yet`), {
      type: 'LEADER_NOT_AVAILABLE',
    })
  }

  /**
   * Whether `topic` exists now, asked of the broker every time (not cached): a reply
   * topic can be deleted by its asker at any moment. Never creates it.
   */
  async exists(topic: string): Promise<boolean> {
    try {
      const { topics } = await this.admin.fetchTopicMetadata({ topics: [topic] })
      return topics.some((t) => t.name === topic && t.partitions.length > 0)
    } catch (error) {
      if (/does not host this topic-partition|UNKNOWN_TOPIC|not exist/i.test(errorMessageOf(error)))
        return false
      throw new OmnibusError(
        'TRANSPORT_UNAVAILABLE',
        `[omnibus] [kafka] could not look up topic "${topic}": ${errorMessageOf(error)}; is Kafka reachable?`,
        { cause: error },
      )
    }
  }

  private async check(topic: string): Promise<void> {
    if (!(await this.exists(topic))) {
      throw new OmnibusError(
        'CHANNEL_NOT_FOUND',
        `[omnibus] [kafka] topic "${topic}" does not exist and provisioning is off (provision: false); ` +
          'create it (kafka-topics.sh --create) or turn provisioning on',
      )
    }
  }

  /**
   * Commits `from` as the start of every partition of `topic` that `groupId` has
   * no position for yet. Partitions with a position keep it (`from` only applies
   * to a new group). Returns when the position is durable, or when the group
   * turned out to be active (its members then own its position).
   */
  ensureGroupStart(topic: string, groupId: string, from: StartPosition): Promise<void> {
    return groupStarts.run(`${groupId}\u0000${topic}`, async () => {
      try {
        for (let attempt = 1; ; attempt++) {
          try {
            const [committed] = await this.admin.fetchOffsets({ groupId, topics: [topic] })
            const missing = (committed?.partitions ?? [])
              .filter((p) => Number(p.offset) < 0)
              .map((p) => p.partition)
            if (missing.length === 0) return
            const starts = await this.startOffsets(topic, from)
            const partitions = missing.map((partition) => ({
              partition,
              offset: starts.get(partition) ?? '0',
            }))
            if (this.committer) await this.committer.commit(groupId, topic, partitions)
            else await this.admin.setOffsets({ groupId, topic, partitions })
            this.logger.debug('group start committed', { groupId, topic, partitions })
            return
          } catch (error) {
            // On a cluster the group's coordinator moves (a new offsets topic, a node lost) and a
            // new topic reaches the brokers one by one: ask again.
            const moving = coordinatorMoving(error) || metadataLagging(error)
            if (attempt >= 10 || !(groupIsActive(error) || moving)) throw error
            this.logger.debug(
              moving
                ? 'group coordinator or topic metadata moving; asking again'
                : 'group is active; its members hold its position',
              {
                groupId,
                topic,
              },
            )
            await new Promise((resolve) => setTimeout(resolve, (moving ? 300 : 100) * attempt))
          }
        }
      } catch (error) {
        throw new OmnibusError(
          'PROVISIONING_FAILED',
          `[omnibus] [kafka] could not set the start position of group "${groupId}" on topic "${topic}": ` +
            `${errorMessageOf(error)}; is Kafka reachable and may this client commit offsets for the group?`,
          { cause: error },
        )
      }
    })
  }

  private async startOffsets(topic: string, from: StartPosition): Promise<Map<number, string>> {
    if (typeof from === 'object') {
      const entries = await this.admin.fetchTopicOffsetsByTimestamp(topic, from.time.getTime())
      return new Map(entries.map((e) => [e.partition, e.offset]))
    }
    const entries = await this.admin.fetchTopicOffsets(topic)
    return new Map(entries.map((e) => [e.partition, from === 'earliest' ? e.low : e.high]))
  }

  /** Removes a temporary channel: its topic and its group. Best effort: logs what it could not remove. */
  async remove(topic: string, groupId: string): Promise<void> {
    this.topics.delete(topic)
    await this.admin.deleteTopics({ topics: [topic] }).catch((error: unknown) => {
      this.logger.warn('could not delete temporary topic', { topic, reason: errorMessageOf(error) })
    })
    await this.admin.deleteGroups([groupId]).catch((error: unknown) => {
      this.logger.debug('could not delete temporary group', { groupId, reason: errorMessageOf(error) })
    })
  }

  async close(): Promise<void> {
    await this.committer?.close()
  }
}

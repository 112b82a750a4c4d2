import type { Logger } from '@omnibus/core'
import { PromiseCache } from '@omnibus/core/adapter'
import {
  type Consumer,
  type ICustomPartitioner,
  Kafka,
  type logCreator,
  logLevel,
  Partitioners,
  type Producer,
  type RecordMetadata,
  type SASLOptions,
} from 'kafkajs'
import type { KafkaRecord } from './kafka-binding.js'
import type { KafkaConfig } from './kafka-config.js'
import type { DriverMember, DriverProducer, KafkaDriver, MemberEvents, MemberSpec } from './kafka-driver.js'
import { errorText } from './kafka-security.js'
import { withOAuthBearerFailures } from './kafkajs-oauthbearer.js'

/** The Omnibus logger's method for each of kafkajs' levels (kafkajs' `logLevel` holds no names). */
const METHODS = { [logLevel.ERROR]: 'error', [logLevel.WARN]: 'warn', [logLevel.INFO]: 'info' } as const

/** kafkajs' own log lines, into the Omnibus logger instead of the console. */
const kafkaLogs =
  (logger: Logger): logCreator =>
  () =>
  ({ namespace, level, log }) => {
    const { message, timestamp: _t, logger: _l, ...fields } = log
    const text = `kafkajs ${namespace ? `${namespace}: ` : ''}${message}`
    // Retries are bounded on purpose (a publish must reject rather than wait forever).
    const bounded = /Limiting retries for the idempotent producer/.test(String(message))
    logger[bounded ? 'debug' : (METHODS[level as keyof typeof METHODS] ?? 'debug')](text, fields)
  }

/**
 * Keyed records go where Java clients put them (murmur2, kafkajs' DefaultPartitioner).
 * Unkeyed ones go round robin, but keep the partition first given: kafkajs partitions a
 * request again on every retry, so an attempt written but not acknowledged could be retried
 * onto another partition, and the first one's rolled-back sequence numbers reused by other
 * records, which the broker would drop as duplicates while confirming them. The partition
 * is kept on the record (`partition`, which the partitioner honours), not in a WeakMap. Keyed
 * records get theirs written down too, so that a send can tell which partitions' acknowledgements
 * it needs (see `acknowledged`).
 */
const stablePartitioner: ICustomPartitioner = () => {
  const base = Partitioners.DefaultPartitioner()
  let next = Math.floor(Math.random() * 1024)
  return (args) => {
    const { message, partitionMetadata } = args
    if (message.key !== null && message.key !== undefined) {
      message.partition = base(args)
      return message.partition
    }
    const given = message.partition
    if (given !== undefined && given < partitionMetadata.length) return given
    const candidate = partitionMetadata[next++ % partitionMetadata.length]
    // A partition without a leader: let kafkajs pick among those with one.
    const partition =
      candidate && candidate.leader >= 0
        ? candidate.partitionId
        : base({ ...args, message: { ...message, partition: undefined } })
    message.partition = partition
    return partition
  }
}

interface Cluster {
  connect(): Promise<void>
  disconnect(): Promise<void>
  findGroupCoordinator(args: { groupId: string }): Promise<{ offsetCommit(args: object): Promise<unknown> }>
  brokerPool?: { seedBroker?: { findGroupCoordinator?(request: object): Promise<unknown> } }
}

/**
 * kafkajs' cluster factory, kept under a private symbol. admin.setOffsets joins the group with a
 * throw-away consumer and waits out a fetch (seconds per group), while Kafka accepts a commit from
 * outside the group (generation -1) when it has no members; and kafkajs reports a group without
 * ACL only as "Failed to find group coordinator", dropping the broker's reason. Both need the
 * cluster; should a release drop the symbol, setOffsets and the plain message are the fallbacks.
 */
function clusterOf(kafka: Kafka): (() => Cluster) | undefined {
  const symbol = Object.getOwnPropertySymbols(kafka).find(
    (s) => s.description === 'private:Kafka:createCluster',
  )
  const factory = symbol && (kafka as unknown as Record<symbol, unknown>)[symbol]
  return typeof factory === 'function'
    ? () => factory({ allowAutoTopicCreation: false }) as Cluster
    : undefined
}

export function kafkajsDriver(config: KafkaConfig, logger: Logger): KafkaDriver {
  const { retry } = config
  const kafka =
    config.kafka ??
    new Kafka({
      brokers: config.brokers,
      clientId: config.clientId,
      ...(config.ssl !== undefined ? { ssl: config.ssl } : {}),
      ...(config.sasl ? { sasl: withOAuthBearerFailures(config.sasl as SASLOptions) } : {}),
      retry,
      // The option's names are kafkajs' level names in lower case.
      logLevel: logLevel[config.logLevel.toUpperCase() as Uppercase<KafkaConfig['logLevel']>],
      logCreator: kafkaLogs(logger),
    })
  const admin = kafka.admin({ retry })
  const newCluster = clusterOf(kafka)
  // One connected cluster for commits from outside, made on first use (again after a failed connect).
  const committer = new PromiseCache<Cluster>()
  const cluster = () =>
    committer.get('', async () => {
      const c = newCluster!()
      await c.connect()
      return c
    })

  return {
    connect: () => admin.connect(),
    async close() {
      const c = committer.peek('')
      committer.clear()
      await Promise.allSettled([admin.disconnect(), c?.then((x) => x.disconnect())])
    },
    producer: () => producer(kafka, retry, logger),
    member: (spec, events) => member(kafka, config, spec, events),
    brokerCount: async () => (await admin.describeCluster()).brokers.length,
    async createTopic(topic, numPartitions, replicationFactor, configEntries) {
      return admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic, numPartitions, replicationFactor, configEntries }],
      })
    },
    async topicExists(topic) {
      try {
        const { topics } = await admin.fetchTopicMetadata({ topics: [topic] })
        return topics.some((t) => t.name === topic && t.partitions.length > 0)
      } catch (error) {
        if (/does not host this topic-partition|UNKNOWN_TOPIC|not exist/i.test(errorText(error))) return false
        throw error
      }
    },
    deleteTopic: (topic) => admin.deleteTopics({ topics: [topic] }),
    deleteGroup: async (groupId) => void (await admin.deleteGroups([groupId])),
    offsets: async (topic) =>
      (await admin.fetchTopicOffsets(topic)).map((p) => ({
        partition: p.partition,
        low: Number(p.low),
        high: Number(p.high),
      })),
    offsetsAt: async (topic, ms) =>
      new Map(
        (await admin.fetchTopicOffsetsByTimestamp(topic, ms)).map((e) => [e.partition, Number(e.offset)]),
      ),
    async committed(groupId, topic) {
      const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] })
      return (entry?.partitions ?? []).map((p) => ({ partition: p.partition, offset: Number(p.offset) }))
    },
    async commitFromOutside(groupId, topic, offsets) {
      const partitions = [...offsets].map(([partition, offset]) => ({ partition, offset: String(offset) }))
      if (!newCluster) return admin.setOffsets({ groupId, topic, partitions })
      const coordinator = await (await cluster()).findGroupCoordinator({ groupId })
      await coordinator.offsetCommit({
        groupId,
        groupGenerationId: -1,
        memberId: '',
        topics: [{ topic, partitions }],
      })
    },
    async reason(error, groupId) {
      const lost = (e: unknown): boolean =>
        e instanceof Error && (e.name === 'KafkaJSGroupCoordinatorNotFound' || lost(e.cause))
      if (!lost(error) || !newCluster) return error
      // Ask the seed broker once more for the reason kafkajs dropped.
      const c = newCluster()
      const reason = await c
        .connect()
        .then(() => c.brokerPool?.seedBroker?.findGroupCoordinator?.({ groupId, coordinatorType: 0 }))
        .then(
          () => error,
          (e: unknown) => e,
        )
      await c.disconnect().catch(() => undefined)
      return reason
    },
  }
}

/**
 * Returns once every partition of `records` is in the broker's acknowledgement, sending again
 * those that are not. kafkajs can report a send as done with a partition missing: when a
 * partition's leader dies mid-request, its retry goes only to brokers that have not answered
 * yet, so if the partition's new leader was one of the request's other brokers, its records are
 * never sent (and the killed leader may not have replicated them: confirmed, lost). kafkajs
 * rolled that partition's sequence numbers back, so the same records sent again alone are
 * deduplicated by the broker if the dead leader's copy survived, and written if not.
 */
async function acknowledged(
  producer: Producer,
  topic: string,
  records: KafkaRecord[],
  acks: RecordMetadata[],
  logger: Logger,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const done = new Set(acks.map((a) => a.partition))
    const missing = records.filter((r) => r.partition === undefined || !done.has(r.partition))
    if (missing.length === 0) return
    const partitions = [...new Set(missing.map((r) => r.partition))].join(', ')
    if (attempt > 3)
      throw new Error(`no acknowledgement for partition(s) ${partitions} after ${attempt} sends`)
    logger.warn('[kafka] acknowledged a send without some of its partitions; sending those again', {
      topic,
      partitions,
      records: missing.length,
    })
    records = missing
    acks = await producer.send({ topic, messages: missing, acks: -1 })
  }
}

function producer(kafka: Kafka, retry: KafkaConfig['retry'], logger: Logger): DriverProducer {
  const p = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    retry,
    createPartitioner: stablePartitioner,
  })
  let ready: Promise<void> | undefined
  return {
    async send(topic, messages) {
      ready ??= p.connect()
      ready.catch(() => {
        ready = undefined
      })
      await ready
      await acknowledged(p, topic, messages, await p.send({ topic, messages, acks: -1 }), logger)
    },
    close: () => p.disconnect(),
  }
}

/**
 * eachBatch hands a batch to the policy, which returns once every record is handed out (not
 * settled): kafkajs fetches all partitions of a broker in one loop, so waiting for slow handlers
 * would stall the others. Commits are the policy's (autoCommit off); kafkajs' resolveOffset only
 * moves the fetch position.
 */
function member(kafka: Kafka, config: KafkaConfig, spec: MemberSpec, events: MemberEvents): DriverMember {
  const { groupId, topic } = spec
  const consumer: Consumer = kafka.consumer({
    groupId,
    sessionTimeout: config.sessionTimeout,
    rebalanceTimeout: config.rebalanceTimeout,
    heartbeatInterval: config.heartbeatInterval,
    maxWaitTimeInMs: config.maxWaitTimeInMs,
    allowAutoTopicCreation: false,
    retry: config.retry,
  })
  let stopped = false
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) =>
    events.assigned(payload.memberAssignment[topic] ?? []),
  )
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!stopped) events.failed(payload.error, payload.restart)
  })
  return {
    async start() {
      try {
        await consumer.connect()
        await consumer.subscribe({ topics: [topic], fromBeginning: spec.fromBeginning })
        await consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: spec.concurrency,
          eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
            // Waiting for a free handler slot can take a while: keep the membership alive.
            const beat = setInterval(() => void heartbeat().catch(() => undefined), config.heartbeatInterval)
            const records = batch.messages.map((m) => ({
              offset: Number(m.offset),
              key: m.key,
              value: m.value,
              headers: m.headers ?? {},
            }))
            try {
              const last = await events.batch(
                batch.partition,
                records,
                () => !stopped && isRunning() && !isStale(),
              )
              if (last !== undefined) resolveOffset(String(last))
            } finally {
              clearInterval(beat)
            }
          },
        })
      } catch (error) {
        await consumer.disconnect().catch(() => undefined)
        throw error
      }
    },
    commit: (offsets) =>
      consumer.commitOffsets(
        [...offsets].map(([partition, offset]) => ({ topic, partition, offset: String(offset) })),
      ),
    seek: (partition, offset) => consumer.seek({ topic, partition, offset: String(offset) }),
    pause() {
      try {
        consumer.pause([{ topic }])
      } catch {
        // Not running (never joined, or crashed): nothing to pause.
      }
    },
    async close() {
      stopped = true
      await consumer.disconnect()
    },
  }
}

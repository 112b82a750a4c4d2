import type { Logger } from '@omnibus/core'
import { describeError } from '@omnibus/core/adapter'
import {
  Admin,
  Consumer,
  type ConsumerGroupJoinPayload,
  type Message,
  type MessagesStream,
  Producer,
  type SASLOptions,
} from '@platformatic/kafka'
import type { KafkaConfig } from './kafka-config.js'
import type { DriverMember, DriverProducer, KafkaDriver, MemberEvents, MemberSpec } from './kafka-driver.js'

const LATEST = -1n
const EARLIEST = -2n

/** What every client of @platformatic/kafka shares: where the cluster is, and how to log in. */
function base(config: KafkaConfig, role: string) {
  const { sasl, ssl, retry } = config
  return {
    clientId: `${config.clientId}-${role}`,
    bootstrapBrokers: config.brokers,
    retries: retry.retries,
    retryDelay: retry.initialRetryTime,
    ...(ssl ? { tls: ssl === true ? {} : ssl } : {}),
    ...(sasl
      ? {
          sasl: (sasl.mechanism === 'oauthbearer'
            ? { mechanism: 'OAUTHBEARER', token: async () => (await sasl.oauthBearerProvider()).value }
            : {
                mechanism: sasl.mechanism.toUpperCase(),
                ...(sasl as { username: string; password: string }),
              }) as SASLOptions,
        }
      : {}),
  }
}

/**
 * The driver on @platformatic/kafka (pure TypeScript, KIP-848 capable). Its consumer is a stream of
 * single messages with no seek: a rejected record is handed out again by the consumer policy
 * (no `seek`), from memory, while its offset stays uncommitted.
 */
export function platformaticDriver(config: KafkaConfig, logger: Logger): KafkaDriver {
  if (config.kafka)
    logger.warn('[kafka] the `kafka` option is a kafkajs client: the platformatic driver ignores it')
  const admin = new Admin(base(config, 'admin'))
  const partitionsOf = async (topic: string) => {
    const metadata = await admin.metadata({ topics: [topic], forceUpdate: true })
    return Array.from({ length: metadata.topics.get(topic)?.partitionsCount ?? 0 }, (_, i) => i)
  }
  const list = async (topic: string, timestamp: bigint) => {
    const partitions = (await partitionsOf(topic)).map((partitionIndex) => ({ partitionIndex, timestamp }))
    const [listed] = await admin.listOffsets({ topics: [{ name: topic, partitions }] })
    return new Map((listed?.partitions ?? []).map((p) => [p.partitionIndex, Number(p.offset)]))
  }
  return {
    connect: async () => void (await admin.metadata({ topics: [] })),
    close: () => admin.close(),
    producer: () => producer(config),
    member: (spec, events) => member(config, spec, events),
    brokerCount: async () => (await admin.metadata({ topics: [] })).brokers.size,
    async createTopic(topic, partitions, replicas, configs) {
      await admin.createTopics({ topics: [topic], partitions, replicas, configs })
      return true
    },
    async topicExists(topic) {
      return (await admin.listTopics()).includes(topic)
    },
    deleteTopic: (topic) => admin.deleteTopics({ topics: [topic] }),
    deleteGroup: (groupId) => admin.deleteGroups({ groups: [groupId] }),
    async offsets(topic) {
      const [low, high] = await Promise.all([list(topic, EARLIEST), list(topic, LATEST)])
      return [...high].map(([partition, h]) => ({ partition, low: low.get(partition) ?? 0, high: h }))
    },
    async offsetsAt(topic, ms) {
      const [at, high] = await Promise.all([list(topic, BigInt(ms)), list(topic, LATEST)])
      return new Map([...high].map(([p, h]) => [p, (at.get(p) ?? -1) >= 0 ? at.get(p)! : h]))
    },
    async committed(groupId, topic) {
      const partitionIndexes = await partitionsOf(topic)
      const [group] = await admin.listConsumerGroupOffsets({
        groups: [{ groupId, topics: [{ name: topic, partitionIndexes }] }],
      })
      const found = new Map(
        group?.topics[0]?.partitions.map((p) => [p.partitionIndex, Number(p.committedOffset)]),
      )
      return partitionIndexes.map((partition) => ({ partition, offset: found.get(partition) ?? -1 }))
    },
    // Kafka's offset commit from outside the group (generation -1), as kafka-admin does it.
    commitFromOutside: (groupId, topic, offsets) =>
      admin.alterConsumerGroupOffsets({
        groupId,
        topics: [
          {
            name: topic,
            partitionOffsets: [...offsets].map(([partition, o]) => ({ partition, offset: BigInt(o) })),
          },
        ],
      }),
  }
}

/** Most header names (and last values) remembered below: senders use a few, a process meets few. */
const MEMO_LIMIT = 256

/** Header names as bytes, made once: binary mode sends the same few names on every record. */
const headerNames = new Map<string, Buffer>()
const nameBytes = (name: string) => {
  let bytes = headerNames.get(name)
  if (!bytes) {
    bytes = Buffer.from(name, 'utf8')
    if (headerNames.size < MEMO_LIMIT) headerNames.set(name, bytes)
  }
  return bytes
}

/**
 * The last value sent under each header name, with its bytes: five of binary mode's seven headers
 * (specversion, source, type, kind, content type) repeat from record to record, so they are
 * encoded once, not once per record. The client only copies header bytes into its request.
 */
const lastValues = new Map<string, { text: string; bytes: Buffer }>()
const valueBytes = (name: string, text: string) => {
  const last = lastValues.get(name)
  if (last?.text === text) return last.bytes
  const bytes = Buffer.from(text, 'utf8')
  if (last || lastValues.size < MEMO_LIMIT) lastValues.set(name, { text, bytes })
  return bytes
}

/**
 * Received header names as text, each made once: records carry the same few names, and a name
 * decoded anew per record costs a decode, and again a string-table look-up wherever it becomes a
 * property name (the header object core decodes). Compared byte by byte: names are short.
 */
const receivedNames: { bytes: Buffer; text: string }[] = []
function headerName(bytes?: Buffer): string {
  if (!bytes) return ''
  for (const known of receivedNames) if (sameBytes(known.bytes, bytes)) return known.text
  const text = bytes.toString('utf8')
  if (receivedNames.length < 64) receivedNames.push({ bytes: Buffer.from(bytes), text })
  return text
}
function sameBytes(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function producer(config: KafkaConfig): DriverProducer {
  // No serializers: the headers go in as a Map of bytes, which the client encodes as it is (an
  // object would become Object.entries, a Map, and a serializer call per name and value).
  const p = new Producer<Buffer, Buffer, Buffer, Buffer>({
    ...base(config, 'producer'),
    idempotent: true,
    acks: -1,
    autocreateTopics: false,
  })
  return {
    async send(topic, records) {
      const messages = records.map((r) => {
        const headers = new Map<Buffer, Buffer>()
        for (const name in r.headers) headers.set(nameBytes(name), valueBytes(name, r.headers[name]!))
        return r.partition === undefined
          ? { topic, key: r.key ?? undefined, value: r.value, headers }
          : { topic, key: r.key ?? undefined, value: r.value, headers, partition: r.partition }
      })
      await p.send({ messages })
    },
    close: () => p.close(),
  }
}

function member(config: KafkaConfig, spec: MemberSpec, events: MemberEvents): DriverMember {
  const { groupId, topic } = spec
  const consumer = new Consumer<Buffer, Buffer, string, Buffer>({
    ...base(config, 'consumer'),
    groupId,
    sessionTimeout: config.sessionTimeout,
    rebalanceTimeout: config.rebalanceTimeout,
    heartbeatInterval: config.heartbeatInterval,
    maxWaitTime: config.maxWaitTimeInMs,
    autocommit: false,
    deserializers: { headerKey: headerName },
  })
  let stream: MessagesStream<Buffer, Buffer, string, Buffer> | undefined
  let stopped = false
  const epochs = new Map<number, number>()
  const owned = new Set<number>()
  const fail = (error: unknown) => {
    if (!stopped) events.failed(error, false)
  }
  consumer.on('error', fail)
  consumer.on('consumer:group:join', ({ assignments }: ConsumerGroupJoinPayload) => {
    owned.clear()
    for (const a of assignments ?? []) if (a.topic === topic) for (const p of a.partitions) owned.add(p)
    events.assigned([...owned])
  })
  type Received = Message<Buffer, Buffer, string, Buffer>
  const record = (m: Received) => ({
    offset: Number(m.offset),
    key: m.key ?? null,
    value: m.value ?? null,
    headers: m.headers,
  })
  // Reads what the stream holds already, one partition's run of records at a time: one handover
  // per run instead of an iterator step and a batch call per message.
  const pump = async (s: MessagesStream<Buffer, Buffer, string, Buffer>) => {
    let wake: (() => void) | undefined
    const poke = () => {
      const w = wake
      wake = undefined
      w?.()
    }
    // As Node's own iterator over a stream: woken when there is something to read, or it ended or
    // failed (the 'error' listener of start() reports the failure).
    s.on('readable', poke).on('end', poke).on('close', poke).on('error', poke)
    let held: Received | null = null
    for (;;) {
      const first: Received | null = held ?? s.read()
      held = null
      if (first === null) {
        if (s.destroyed || s.readableEnded) return
        await new Promise<void>((resolve) => {
          wake = resolve
        })
        continue
      }
      const { partition } = first
      const records = [record(first)]
      let last = first
      for (let m: Received | null = s.read(); m !== null; m = s.read()) {
        if (m.partition !== partition) {
          held = m
          break
        }
        records.push(record(m))
        last = m
      }
      epochs.set(partition, last.leaderEpoch)
      await events.batch(partition, records, () => !stopped && owned.has(partition))
    }
  }
  return {
    async start() {
      stream = await consumer.consume({
        topics: [topic],
        mode: 'committed',
        fallbackMode: spec.fromBeginning ? 'earliest' : 'latest',
        autocommit: false,
        sessionTimeout: config.sessionTimeout,
        rebalanceTimeout: config.rebalanceTimeout,
        heartbeatInterval: config.heartbeatInterval,
        maxWaitTime: config.maxWaitTimeInMs,
      })
      // Failures of the stream itself, also while a batch is being handed out.
      stream.on('error', fail)
      void pump(stream).catch(fail)
    },
    commit: (offsets) =>
      consumer.commit({
        offsets: [...offsets].map(([partition, offset]) => ({
          topic,
          partition,
          offset: BigInt(offset),
          leaderEpoch: epochs.get(partition) ?? -1,
        })),
      }),
    pause: () => void stream?.pause(),
    async close() {
      stopped = true
      await stream?.close().catch((error: unknown) => void describeError(error))
      await consumer.close(true)
    },
  }
}

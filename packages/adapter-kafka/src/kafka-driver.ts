import type { KafkaRecord } from './kafka-binding.js'

/**
 * The Kafka client under the adapter. Binding, provisioning, publish batching and the
 * consumer's commit policy are written once over this; a driver (kafkajs-driver.ts,
 * platformatic-driver.ts) only translates calls. Offsets are numbers (safe up to 2^53).
 */
export interface KafkaDriver {
  /** Reaches the cluster (the admin connection); rejects when it cannot. */
  connect(): Promise<void>
  close(): Promise<void>
  /** A new idempotent producer (acks=all); the publisher retires one after a failed send. */
  producer(): DriverProducer
  /** A new member of `spec.groupId`, not started. */
  member(spec: MemberSpec, events: MemberEvents): DriverMember
  brokerCount(): Promise<number>
  /** Creates `topic`; resolves false when it existed already. */
  createTopic(
    topic: string,
    partitions: number,
    replication: number,
    configs: { name: string; value: string }[],
  ): Promise<boolean>
  /** Whether `topic` exists now (asked of the broker, never created). */
  topicExists(topic: string): Promise<boolean>
  deleteTopic(topic: string): Promise<void>
  deleteGroup(groupId: string): Promise<void>
  /** Per partition: first and next offset. */
  offsets(topic: string): Promise<{ partition: number; low: number; high: number }[]>
  /** Per partition: the first offset at or after `ms` (the high watermark when none). */
  offsetsAt(topic: string, ms: number): Promise<Map<number, number>>
  /** The group's committed offset per partition of `topic`, -1 where it has none. */
  committed(groupId: string, topic: string): Promise<{ partition: number; offset: number }[]>
  /** Commits start offsets for a group without members (generation -1); fails while it has some. */
  commitFromOutside(groupId: string, topic: string, offsets: Map<number, number>): Promise<void>
  /** The broker's reason for a failure the client reported without it (`groupId`'s coordinator), else `error`. */
  reason?(error: unknown, groupId: string): Promise<unknown>
}

export interface DriverProducer {
  send(topic: string, records: KafkaRecord[]): Promise<void>
  close(): Promise<void>
}

export interface MemberSpec {
  readonly groupId: string
  readonly topic: string
  /** Where a partition without a committed offset starts. */
  readonly fromBeginning: boolean
  /** Most partitions handed to `batch` at once. */
  readonly concurrency: number
}

/** A record as received: what fromRecord decodes, and where it sits. */
export interface ReceivedRecord {
  readonly offset: number
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly headers: RecordHeaders
}

export interface MemberEvents {
  /**
   * Records of one partition in offset order; resolves with the offset of the last one taken
   * (handed out or skipped) once it stopped taking them. `live()` turns false once the member
   * lost the partition or stopped; the driver keeps the membership alive while this awaits.
   */
  batch(partition: number, records: ReceivedRecord[], live: () => boolean): Promise<number | undefined>
  /** The partitions of the topic this member now owns (after each join). */
  assigned(partitions: number[]): void
  /** The member failed; `restarting` when the client restarts it itself. */
  failed(error: unknown, restarting: boolean): void
}

export interface DriverMember {
  /** Joins and starts fetching; resolves once running (joining may go on). */
  start(): Promise<void>
  /** Commits the next offset to read per partition. */
  commit(offsets: Map<number, number>): Promise<void>
  /** Fetches `partition` again from `offset` (a rejected record); without it, the policy hands the record out again itself. */
  seek?(partition: number, offset: number): void
  /** Stops fetching (before a close, so nothing new is handed out). */
  pause(): void
  close(): Promise<void>
}

/** Header values as clients hand them over (a repeated header may come as a list). */
export type RecordHeaders =
  | Record<string, Buffer | string | (Buffer | string)[] | undefined>
  | ReadonlyMap<string, Buffer>

import { capturingLogger, failoverCounts, keyedPublisher, report, type Seen } from '@omnibus/conformance'
import { errorMessage, type OmnibusError } from '@omnibus/core/adapter'
import { expect, it } from 'vitest'
import { rabbitmqTransport } from '../../src/index.js'
import { unique, waitFor, withRaw } from '../helpers.js'
import { clusterOptions, leaderOf, node } from './cluster.js'

const TOTAL = 10_000
const KEYS = 20
/** Two rounds of the publisher's 100 concurrent publishes: those that waited out publishTimeoutMs in line. */
const REJECTED_AT_MOST = 200
/** The publisher holds here until the killed node is being started again, so that the rest goes out while it rejoins. */
const HOLD_AT = 6_000

// Issue 19 #4, on the three-node cluster only (test/cluster/run.sh in npm test). The transport
// connects to node 1 and declares the group's quorum queue there, so node 1 leads it (RabbitMQ's
// client-local placement): its SIGKILL takes the queue's leader and the transport's connection at once.
it("10,000 events while the quorum queue's leader is SIGKILLed and restarted: nacked publishes sent again in order, every confirmed event delivered, per-key order kept, the consumer resumes", async () => {
  const { logger, lines } = capturingLogger()
  const t = rabbitmqTransport({
    ...clusterOptions,
    quorum: true,
    singleActiveConsumer: true, // what promises per-key order
    publishTimeoutMs: 3000,
    reconnectMaxDelayMs: 500,
    logger,
  })
  await t.connect()
  const channel = { name: unique('leader-kill'), kind: 'topic' as const }
  const seen: Seen[] = []
  const sub = await t.subscribe(
    channel,
    'g',
    async (d) => {
      const data = d.event!.data as { seq: number }
      seen.push({ id: d.event!.id, key: String(d.event!.partitionkey), seq: data.seq })
    },
    { maxInFlight: 64 },
  )
  // Asked before publishing (the command takes seconds), so that the kill lands mid-stream.
  const leader = await leaderOf(`${channel.name}::g`, 2)
  const publisher = keyedPublisher((e) => t.publish(channel, [e]), {
    total: TOTAL,
    keys: KEYS,
    holdAt: HOLD_AT,
  })
  const { confirmed, confirmedAt, rejectedAt } = publisher
  let killedAt = 0
  try {
    await waitFor('2,000 confirmed before the kill', () => confirmed.size >= 2_000, 120_000)
    killedAt = Date.now()
    await node('kill', leader)
    const publishedAtKill = publisher.published // below HOLD_AT: the kill landed mid-stream
    const settled = () => confirmed.size + publisher.rejected.length
    await waitFor('5,000 confirmed or rejected', () => settled() >= 5_000, 180_000)
    const newLeader = await leaderOf(`${channel.name}::g`, leader === 2 ? 3 : 2)
    publisher.release()
    await node('start', leader)
    await publisher.done
    const rejected = publisher.rejected.map((r) => (r as OmnibusError).code ?? String(r))
    const first = publisher.rejected[0] as OmnibusError | undefined
    const why = first ? errorMessage(first.cause ?? first) : '' // the first rejection's cause, for the report
    const counts = () => failoverCounts(seen, confirmed)
    // The counts are reported either way; the assertions below fail the test.
    await waitFor('every confirmed event delivered', () => counts().lost === 0, 120_000).catch(
      () => undefined,
    )
    const { lost, duplicates, outOfOrder } = counts()
    const after = confirmedAt.filter((at) => at >= killedAt)
    const gaps = after.map((at, i) => at - (i === 0 ? killedAt : after[i - 1]!))
    const logged = (level: string, text: string) =>
      lines.filter((l) => l.startsWith(`${level} [rabbitmq] ${text}`))
    const resumed = logged('info', 'consumer resumed')
    const line = report('rabbitmq-cluster-leader-kill', {
      published: publisher.published,
      confirmed: confirmed.size,
      rejected: rejected.length,
      rejectedCodes: [...new Set(rejected)].join('/') || '-',
      rejectingMs: rejectedAt.length ? Math.max(...rejectedAt) - killedAt : 0,
      firstRejection: JSON.stringify(why),
      lost,
      duplicates, // at-least-once: what the killed node had delivered but not seen acknowledged
      outOfOrder,
      publishedAtKill,
      leader: `${leader}->${newLeader}`,
      resumeMs: Math.max(0, ...gaps),
      consumerOutageMs: /"outageMs":(\d+)/.exec(resumed[0] ?? '')?.[1] ?? '-',
      nackOutageMs: /"outageMs":(\d+)/.exec(logged('info', 'publishes confirmed again')[0] ?? '')?.[1] ?? '-',
    })
    expect(leader, `${line}: node 1 leads a queue declared through it`).toBe(1)
    expect(publishedAtKill, line).toBeLessThan(HOLD_AT)
    expect(newLeader, line).not.toBe(leader)
    expect(lost, line).toBe(0)
    expect(outOfOrder, line).toBe(0)
    expect(confirmed.size + rejected.length, line).toBe(publisher.published)
    // Nacked publishes are sent again until publishTimeoutMs (4,400-5,783 rejected before they were):
    // only those that waited out the whole deadline in line reject.
    expect(rejected.length, line).toBeLessThanOrEqual(REJECTED_AT_MOST)
    expect(new Set(rejected), line).toEqual(new Set(rejected.length ? ['PUBLISH_FAILED'] : []))
    // The consumer lost its node with the leader, and came back by itself on another, saying so once.
    expect(logged('warn', 'consumer lost the broker'), line).toHaveLength(1)
    expect(resumed, line).toHaveLength(1)
    // The publisher's nacks, if any, are one outage: one warn, one info.
    const nacked = logged('warn', 'publishes nacked')
    expect(nacked.length, line).toBeLessThanOrEqual(1)
    expect(logged('info', 'publishes confirmed again'), line).toHaveLength(nacked.length)
  } finally {
    publisher.stop()
    await publisher.done
    await sub.close().catch(() => undefined)
    await t.close().catch(() => undefined)
    // Leave the cluster whole for whoever runs next, whatever happened above, without this test's
    // queues (each quorum queue is three Raft members that every boot of the cluster recovers).
    await node('start', leader)
    await withRaw(async (ch) => {
      for (const queue of [`${channel.name}::g`, `${channel.name}.dlq`]) await ch.deleteQueue(queue)
      await ch.deleteExchange(channel.name)
    })
  }
}, 600_000)

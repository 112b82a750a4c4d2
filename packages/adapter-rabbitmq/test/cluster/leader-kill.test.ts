import { capturingLogger, failoverCounts, report, type Seen } from '@omnibus/conformance'
import { createEvent, errorMessage, type OmnibusError } from '@omnibus/core/adapter'
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
  const confirmed = new Map<string, number>() // id -> seq
  const rejected: string[] = []
  const rejectedAt: number[] = []
  let why = '' // the first rejection's cause, for the report
  const confirmedAt: number[] = []
  let published = 0
  let restart!: () => void
  const restarting = new Promise<void>((resolve) => {
    restart = resolve
  })
  const publisher = (async () => {
    while (published < TOTAL) {
      if (published === HOLD_AT) await restarting
      const events = Array.from({ length: Math.min(100, TOTAL - published) }, (_, j) => {
        const seq = published + j
        return createEvent({
          type: 'com.test.failover',
          source: '/t',
          partitionkey: `k${seq % KEYS}`,
          data: { seq },
        })
      })
      published += events.length
      const results = await Promise.allSettled(events.map((e) => t.publish(channel, [e])))
      results.forEach((r, j) => {
        if (r.status === 'fulfilled') {
          confirmed.set(events[j]!.id, (events[j]!.data as { seq: number }).seq)
          confirmedAt.push(Date.now())
        } else {
          rejected.push((r.reason as OmnibusError).code ?? String(r.reason))
          rejectedAt.push(Date.now())
          why ||= errorMessage((r.reason as OmnibusError).cause ?? r.reason)
        }
      })
    }
  })()
  let killedAt = 0
  try {
    await waitFor('2,000 confirmed before the kill', () => confirmed.size >= 2_000, 120_000)
    killedAt = Date.now()
    await node('kill', leader)
    const publishedAtKill = published // below HOLD_AT: the kill landed mid-stream
    await waitFor('5,000 confirmed or rejected', () => confirmed.size + rejected.length >= 5_000, 180_000)
    const newLeader = await leaderOf(`${channel.name}::g`, leader === 2 ? 3 : 2)
    restart()
    await node('start', leader)
    await publisher
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
      published,
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
    expect(confirmed.size + rejected.length, line).toBe(published)
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
    published = TOTAL
    restart()
    await publisher.catch(() => undefined)
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

import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { report } from '@omnibus/conformance'
import { expect, it } from 'vitest'
import { BROKERS, event, expectPublishFailed, transport, uniq, waitFor } from '../helpers.js'

const TOTAL = 10_000
const KEYS = 20
/** Published but not delivered yet, at most: the stream goes on for as long as the members need. */
const AHEAD = 1_000
const memberMain = resolve(dirname(fileURLToPath(import.meta.url)), 'member.mjs')

interface Seen {
  readonly id: string
  readonly key: string
  readonly seq: number
}

interface Member {
  readonly name: string
  readonly child: ChildProcess
  /** member.mjs appends a line per handled delivery here; `read` takes what is new. */
  readonly fd: number
  readonly seen: Seen[]
  ready: boolean
  exited: boolean
  offset: number
  rest: string
}

const dir = mkdtempSync(join(tmpdir(), 'omnibus-group-kill-'))

/** Starts one member of group `g` in a process of its own (member.mjs). */
function member(name: string, channel: string): Member {
  const file = join(dir, `${name}.log`)
  writeFileSync(file, '')
  const child = spawn(process.execPath, [memberMain, channel, 'g', file], {
    env: { ...process.env, OMNIBUS_KAFKA_BROKERS: BROKERS.join(',') },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const m: Member = {
    name,
    child,
    fd: openSync(file, 'r'),
    seen: [],
    ready: false,
    exited: false,
    offset: 0,
    rest: '',
  }
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line === 'ready') m.ready = true
  })
  child.once('exit', () => {
    m.exited = true
  })
  return m
}

const chunk = Buffer.alloc(1 << 16)

/** Reads what the members handled since the last call; `delivered` maps each id to when it was first seen. */
function read(members: readonly Member[], delivered: Map<string, number>): number {
  for (const m of members) {
    for (
      let n = readSync(m.fd, chunk, 0, chunk.length, m.offset);
      n > 0;
      n = readSync(m.fd, chunk, 0, chunk.length, m.offset)
    ) {
      m.offset += n
      m.rest += chunk.toString('utf8', 0, n)
    }
    const lines = m.rest.split('\n')
    m.rest = lines.pop()!
    for (const line of lines) {
      const [, id, key, seq] = line.split(' ')
      m.seen.push({ id: id!, key: key!, seq: Number(seq) })
      if (!delivered.has(id!)) delivered.set(id!, Date.now())
    }
  }
  return delivered.size
}

/** Per key, the events new to this member come in publish order (redeliveries aside). */
function outOfOrder(m: Member): number {
  const had = new Set<string>()
  const last = new Map<string, number>()
  let wrong = 0
  for (const s of m.seen) {
    if (had.has(s.id)) continue
    had.add(s.id)
    if ((last.get(s.key) ?? -1) > s.seq) wrong++
    last.set(s.key, Math.max(s.seq, last.get(s.key) ?? -1))
  }
  return wrong
}

// Runs on the three-node cluster only (vitest.config.ts); the members run the built adapter (dist/).
it("three members of one group through a member's join and another's SIGKILL: every confirmed event delivered, per-key order kept per member", async () => {
  const t = transport({ partitions: 6 })
  await t.connect()
  const name = uniq('group-kill')
  const channel = { name, kind: 'topic' as const }
  // Creates the topic with 6 partitions (2 per member); the group starts after this event.
  await t.publish(channel, [event('com.test.group-kill', { data: { seq: -1 } })])
  const delivered = new Map<string, number>() // id -> when first seen delivered
  const members = [member('a', name), member('b', name)]
  const progress = () => read(members, delivered)
  const confirmed = new Set<string>()
  const rejected: unknown[] = []
  let published = 0
  // The group starts at the end of the topic when its first member subscribes: publish after that.
  const subscribed = waitFor('members a and b subscribed', () => members.every((m) => m.ready), 60_000)
  const publisher = (async () => {
    await subscribed
    while (published < TOTAL) {
      await waitFor('the members to keep up', () => published - progress() <= AHEAD, 120_000).catch(
        () => undefined, // counted as lost below
      )
      const events = Array.from({ length: Math.min(100, TOTAL - published) }, (_, j) => {
        const seq = published + j
        return event('com.test.group-kill', { partitionkey: `k${seq % KEYS}`, data: { seq } })
      })
      published += events.length
      const results = await Promise.allSettled(events.map((e) => t.publish(channel, [e])))
      results.forEach((r, j) => {
        if (r.status === 'fulfilled') confirmed.add(events[j]!.id)
        else rejected.push(r.reason)
      })
    }
  })()
  void publisher.catch(() => undefined) // awaited below; this only marks it handled
  try {
    await subscribed
    await waitFor('2,000 delivered', () => progress() >= 2_000, 120_000)
    const c = member('c', name)
    members.push(c)
    await waitFor('member c joined and handling', () => progress() > 0 && c.seen.length > 0, 120_000)
    await waitFor('5,000 delivered', () => progress() >= 5_000, 120_000)
    const b = members[1]!
    const killedAt = Date.now()
    b.child.kill('SIGKILL')
    await waitFor('member b gone', () => b.exited, 10_000)
    await publisher
    const lost = () => {
      progress()
      return [...confirmed].filter((id) => !delivered.has(id)).length
    }
    // The counts are reported either way; the assertions below fail the test.
    await waitFor('every confirmed event delivered', () => lost() === 0, 180_000).catch(() => undefined)
    // How long the group stalled: the longest pause between new deliveries after the kill.
    const after = [...delivered.values(), killedAt].filter((at) => at >= killedAt).sort((x, y) => x - y)
    const handled = members.reduce((n, m) => n + m.seen.length, 0)
    const wrong = members.reduce((n, m) => n + outOfOrder(m), 0)
    report('kafka-cluster-group-kill', {
      published,
      confirmed: confirmed.size,
      rejected: rejected.length,
      lost: lost(),
      duplicates: handled - delivered.size,
      outOfOrder: wrong,
      resumeMs: Math.max(0, ...after.map((at, i) => (i === 0 ? 0 : at - after[i - 1]!))),
      ...Object.fromEntries(members.map((m) => [`handledBy${m.name.toUpperCase()}`, m.seen.length])),
    })
    expect(lost()).toBe(0)
    expect(wrong).toBe(0)
    expectPublishFailed(rejected)
  } finally {
    published = TOTAL
    await publisher.catch(() => undefined)
    for (const m of members) if (!m.exited) m.child.kill('SIGTERM')
    await waitFor('the members closed', () => members.every((m) => m.exited), 30_000).catch(() => {
      for (const m of members) if (!m.exited) m.child.kill('SIGKILL')
    })
    await t.close()
    for (const m of members) closeSync(m.fd)
    rmSync(dir, { recursive: true, force: true })
  }
}, 600_000)

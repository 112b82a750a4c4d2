import { decodeMessage, STRUCTURED_CONTENT_TYPE } from '../envelope/binding.js'
import { ConfigError } from '../errors.js'
import type { Channel, Delivery, DeliveryHandler, StartPosition } from './transport.js'

/**
 * The in-process broker behind the memory transport. It keeps the latest messages
 * of a topic (so new groups can replay; see MemoryBrokerOptions), gives each group its own position, shares
 * a group's messages among its members, holds back a key while an earlier message
 * with that key is unsettled (per-key order), and puts rejected deliveries back at
 * the front. Messages are stored as the bytes and headers a broker would carry, and
 * every delivery is decoded from them by the binding every adapter uses.
 */
interface Stored {
  readonly seq: number
  readonly at: number
  /** What a producer sent, shared by every group (never changed once stored). */
  readonly body: Uint8Array
  readonly headers: Record<string, string>
  /** The content type header, looked up once when stored rather than at every delivery. */
  readonly contentType: string | undefined
  readonly key: string | undefined
  deliveries: number
}

export interface Member {
  readonly handler: DeliveryHandler
  readonly maxInFlight: number
  inFlight: number
  active: boolean
  /** Called when inFlight drops to 0 (close() waits on it). */
  idle?: () => void
}

/**
 * Deliveries go out from microtasks, so they interleave with a publisher's awaits
 * and a message is usually handled while it is young (cheap for the GC), but at
 * most this many in one turn of the event loop: after that the next wait for a
 * turn, so a handler that publishes to its own channel cannot starve timers and I/O.
 */
const DELIVERIES_PER_TURN = 1000
let deliveredThisTurn = 0
const newTurn = () => {
  deliveredThisTurn = 0
}

class Group {
  /** Waiting messages in sequence order; delivered slots become holes until `head` passes them. */
  private pending: (Stored | undefined)[] = []
  private head = 0
  readonly members: Member[] = []
  readonly busyKeys = new Set<string>()
  private next = 0
  private scheduled = false

  enqueue(message: Stored): void {
    this.pending.push(message)
    this.schedule()
  }

  schedule(): void {
    if (this.scheduled) return
    this.scheduled = true
    if (deliveredThisTurn < DELIVERIES_PER_TURN) queueMicrotask(this.pumpNow)
    else setImmediate(this.pumpNow)
  }

  private readonly pumpNow = () => {
    this.scheduled = false
    this.pump()
  }

  private pump(): void {
    const pending = this.pending
    for (let i = this.head; i < pending.length; i++) {
      const message = pending[i]
      if (message === undefined) {
        if (i === this.head) this.head++
        continue
      }
      // A key with an unsettled message waits; later keys may overtake it.
      if (message.key !== undefined && this.busyKeys.has(message.key)) continue
      const member = this.pick()
      if (!member) break
      pending[i] = undefined
      if (i === this.head) this.head++
      this.deliver(member, message)
    }
    if (this.head > 1024 && this.head * 2 > pending.length) {
      this.pending = pending.slice(this.head)
      this.head = 0
    }
  }

  /** Round robin over the members that have room. */
  private pick(): Member | undefined {
    for (let n = 0; n < this.members.length; n++) {
      const member = this.members[(this.next + n) % this.members.length]!
      if (member.active && member.inFlight < member.maxInFlight) {
        this.next = (this.next + n + 1) % this.members.length
        return member
      }
    }
    return undefined
  }

  private deliver(member: Member, message: Stored): void {
    if (deliveredThisTurn++ === 0) setImmediate(newTurn)
    member.inFlight++
    message.deliveries++
    if (message.key !== undefined) this.busyKeys.add(message.key)
    // Decoded afresh for every delivery, as from the wire: handlers never share an object.
    const decoded = decodeMessage(message, [])
    const settle = (ok: boolean) => {
      if (--member.inFlight === 0) member.idle?.()
      if (message.key !== undefined) this.busyKeys.delete(message.key)
      if (!ok) this.requeue(message)
      this.schedule()
    }
    // One new object per delivery, not a spread of the decoded one into another.
    ;(decoded as { deliveryCount?: number }).deliveryCount = message.deliveries
    member.handler(decoded as Delivery).then(
      () => settle(true),
      () => settle(false),
    )
  }

  /** A rejected message goes back in sequence order, ahead of anything newer. */
  private requeue(message: Stored): void {
    let i = this.head
    while (i < this.pending.length && (this.pending[i] === undefined || this.pending[i]!.seq < message.seq))
      i++
    if (i > this.head && this.pending[i - 1] === undefined) this.pending[i - 1] = message
    else this.pending.splice(i, 0, message)
  }
}

export class ChannelState {
  /** The retained messages of a topic, oldest first from `logHead`; earlier slots are released. */
  private log: (Stored | undefined)[] = []
  private logHead = 0
  readonly groups = new Map<string, Group>()
  constructor(
    readonly kind: Channel['kind'],
    private readonly retain: number,
  ) {}

  /** Remembers a message for groups that start later; only topics replay, so queues keep none. */
  remember(message: Stored): void {
    if (this.kind !== 'topic' || this.retain === 0) return
    const log = this.log
    log.push(message)
    if (log.length - this.logHead <= this.retain) return
    log[this.logHead++] = undefined
    if (this.logHead > 1024 && this.logHead * 2 > log.length) {
      this.log = log.slice(this.logHead)
      this.logHead = 0
    }
  }

  group(name: string, from: StartPosition = 'latest'): Group {
    // A queue has one line of messages, whatever group name a consumer gives.
    const key = this.kind === 'queue' ? '' : name
    let group = this.groups.get(key)
    if (!group) {
      group = new Group()
      this.groups.set(key, group)
      if (this.kind === 'topic' && from !== 'latest') {
        const since = from === 'earliest' ? Number.NEGATIVE_INFINITY : from.time.getTime()
        for (let i = this.logHead; i < this.log.length; i++) {
          const m = this.log[i]!
          if (m.at >= since) group.enqueue({ ...m, deliveries: 0 })
        }
      }
    }
    return group
  }
}

export interface MemoryBrokerOptions {
  /**
   * How many of a topic's latest messages are kept for groups that start later from
   * `earliest` or from a time, like a real broker's retention: older ones are
   * forgotten. Messages waiting for an existing group are kept until it settles them,
   * whatever this says. Default 1,000; `Infinity` keeps everything, 0 nothing. Every
   * retained message outlives the young generation, so a large bound costs each
   * publish GC work (10,000 made the bench's publish-and-handle cost ~1.6x 1,000's).
   */
  retainMessages?: number
}

/** The headers of every message the memory transport publishes: structured mode. Shared, never changed. */
export const STRUCTURED_HEADERS: Record<string, string> = Object.freeze({
  'content-type': STRUCTURED_CONTENT_TYPE,
})

/** The default of MemoryBrokerOptions.retainMessages. */
export const DEFAULT_RETAINED_MESSAGES = 1_000

/** A broker living in this process; transports sharing one see each other's messages. */
export class MemoryBroker {
  private readonly channels = new Map<string, ChannelState>()
  private seq = 0
  private readonly retain: number

  constructor(options: MemoryBrokerOptions = {}) {
    const retain = options.retainMessages ?? DEFAULT_RETAINED_MESSAGES
    if (!(retain === Number.POSITIVE_INFINITY || (Number.isInteger(retain) && retain >= 0))) {
      throw new ConfigError('retainMessages', `must be a whole number of messages or Infinity, got ${retain}`)
    }
    this.retain = retain
  }

  channel(channel: Channel): ChannelState {
    let state = this.channels.get(channel.name)
    if (!state) {
      state = new ChannelState(channel.kind, this.retain)
      this.channels.set(channel.name, state)
      // A queue keeps messages even before anyone subscribes.
      if (channel.kind === 'queue') state.group('')
    }
    return state
  }

  /** Appends raw bytes to a channel, as another producer would. Used to test malformed input. */
  inject(channel: Channel, body: Uint8Array, headers: Record<string, string> = {}, key?: string): void {
    this.append(channel, body, headers, key)
  }

  /** Appends a message to a channel and hands it to every group. */
  append(channel: Channel, body: Uint8Array, headers: Record<string, string>, key?: string): void {
    const state = this.channel(channel)
    const contentType = headers === STRUCTURED_HEADERS ? STRUCTURED_CONTENT_TYPE : headers['content-type']
    const message: Stored = {
      seq: ++this.seq,
      at: Date.now(),
      body,
      headers,
      contentType,
      key,
      deliveries: 0,
    }
    state.remember(message)
    // Each group counts its own deliveries. The first may count on the log's entry:
    // a replay copies entries with the count reset.
    let first = true
    for (const group of state.groups.values()) {
      group.enqueue(first ? message : { ...message })
      first = false
    }
  }

  /** The channels that exist now. */
  names(): string[] {
    return [...this.channels.keys()]
  }

  has(name: string): boolean {
    return this.channels.has(name)
  }

  delete(name: string): void {
    this.channels.delete(name)
  }
}

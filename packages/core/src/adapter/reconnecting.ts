import { EventEmitter, once } from 'node:events'
import { errorMessage, OmnibusError } from '../errors.js'
import type { Logger } from '../logger.js'
import { adapterError } from './errors.js'
import { Outage } from './outage.js'
import { Backoff, pause } from './retry.js'

export interface ReconnectingOptions<T> {
  /** Opens the resource (a connection, a consuming channel); rejects when it cannot yet. */
  readonly open: () => Promise<T>
  /** Lets go of a resource given up (errors are ignored). */
  readonly close: (resource: T) => Promise<unknown>
  /** Delays between failed attempts: from `minMs`, doubled per failure up to `maxMs`. */
  readonly minMs: number
  readonly maxMs: number
  readonly logger: Logger
  /** Log lines: `lost` (warn, once an outage), `retry` (debug, per attempt), `back` (info, `outageMs`). */
  readonly say: { readonly lost: string; readonly retry: string; readonly back: string }
  /** Fields of every log line (a URL without credentials; a channel and group). */
  readonly fields?: Readonly<Record<string, unknown>>
  /** What this resource lives on (a channel's connection): after its recovery, this one opens again at once. */
  readonly on?: Reconnecting<unknown>
  /** The adapter's name, for the TRANSPORT_UNAVAILABLE of a `ready()` that waited too long. */
  readonly adapter: string
  /**
   * The first `start()` failing is a TRANSPORT_UNAVAILABLE saying this (what to check) when given; an
   * OmnibusError from `open` (one that says already what is wrong, say a missing queue) passes as it is.
   */
  readonly unreachable?: string
}

/**
 * A resource that comes back by itself, for a client library without recovery of its own (an AMQP
 * connection, a consumer's channel on it). When it is lost it opens again with doubling delays
 * (one warn per outage, one info with `outageMs` when it is back: docs/ADAPTERS.md, checklist 7),
 * runs the `onRecovered` listeners, and only then wakes the callers waiting in `ready()`. A child
 * that follows it (`on`) starts opening again then, on its own time: the parent does not wait for
 * it. Every wait is bounded by its caller's signal.
 */
export class Reconnecting<T> {
  private resource: T | undefined
  private readonly up = new EventEmitter().setMaxListeners(0)
  private readonly stopped = new AbortController()
  private readonly listeners = new Set<(resource: T) => Promise<void> | void>()
  private recovering: Promise<void> | undefined
  /** `recover()` was called during an attempt: the next one follows at once. */
  private hurried = false
  private hurry: (() => void) | undefined
  private unfollow: (() => void) | undefined

  private readonly outage: Outage

  constructor(private readonly options: ReconnectingOptions<T>) {
    this.outage = new Outage(options.logger, options.fields)
  }

  /** Opens the first resource, without retries: `open`'s error, as TRANSPORT_UNAVAILABLE with `unreachable` (see there). */
  async start(): Promise<T> {
    try {
      this.resource = await this.options.open()
      // What it lived on came back as something new: this one must open again on that. Not awaited:
      // the parent would wait on this recovery, and one that cannot finish (the parent lost again,
      // a queue gone for good) would hold the parent's own recovery, and its waiters, for ever.
      this.unfollow = this.options.on?.onRecovered(() => {
        void this.recover('what it lives on was lost')
      })
      return this.resource
    } catch (error) {
      const { adapter, unreachable } = this.options
      if (!unreachable || error instanceof OmnibusError) throw error
      throw adapterError(adapter, 'TRANSPORT_UNAVAILABLE', unreachable, error)
    }
  }

  /** The resource while it is up, else undefined. */
  get current(): T | undefined {
    return this.resource
  }

  /**
   * The resource, waiting while it is recovered; TRANSPORT_UNAVAILABLE when `signal` aborts first,
   * saying what waited (`doing`: `provisioning group "g" of channel "c"`) when given.
   */
  async ready(signal: AbortSignal, doing?: string): Promise<T> {
    while (this.resource === undefined) {
      try {
        await once(this.up, 'up', { signal })
      } catch (error) {
        const what = 'not connected in time: the broker is down or unreachable, and reconnection keeps trying'
        const message = doing ? `${doing}: ${what}` : what
        throw adapterError(this.options.adapter, 'TRANSPORT_UNAVAILABLE', message, signal.reason ?? error)
      }
    }
    return this.resource
  }

  /** Runs `listener` after every recovery (not after `start`), in the order added; returns its removal. */
  onRecovered(listener: (resource: T) => Promise<void> | void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  /** `resource` is gone (closed by the peer, a network failure): recovers, unless it is not current. */
  lost(resource: T, reason: string): void {
    if (this.resource === resource) void this.recover(reason)
  }

  /**
   * Gives up the current resource, if any, and opens again until that works or `stop()`. Called
   * while a recovery is under way, it skips that recovery's pause before the next attempt (what
   * the resource depends on is back). Resolves when recovered or stopped.
   */
  recover(reason: string): Promise<void> {
    if (this.stopped.signal.aborted) return Promise.resolve()
    const old = this.resource
    this.resource = undefined
    if (old !== undefined) void this.options.close(old).catch(() => undefined)
    this.hurried = true
    this.hurry?.()
    this.recovering ??= this.reopen(reason).finally(() => {
      this.recovering = undefined
    })
    return this.recovering
  }

  /** Stops recovering (what an attempt under way opens is closed); hands over the current resource. */
  stop(): T | undefined {
    this.stopped.abort()
    this.listeners.clear()
    this.unfollow?.()
    const resource = this.resource
    this.resource = undefined
    return resource
  }

  /**
   * Resolves when no recovery is under way: after stop(), once what a late attempt opened is closed.
   * With `withinMs`, after that long at the latest (a close that must not hang on an attempt).
   */
  async idle(withinMs?: number): Promise<void> {
    const waited = new AbortController()
    const bound = withinMs === undefined ? [] : [pause(withinMs, waited.signal)]
    await Promise.race([this.recovering, ...bound])
    waited.abort()
  }

  private async reopen(reason: string): Promise<void> {
    const { logger, fields, say } = this.options
    this.outage.begin(say.lost, { reason })
    // Lost again while the listeners ran (a second failure mid-recovery): that recover() found this
    // recovery under way, so this one opens again instead of ending with nothing up.
    while (!this.stopped.signal.aborted) {
      const resource = await this.openUntilUp()
      if (resource === undefined) return
      this.outage.end(say.back)
      const results = await Promise.allSettled(
        [...this.listeners].map(async (listener) => listener(resource)),
      )
      for (const result of results)
        if (result.status === 'rejected')
          logger.warn('a recovery step failed', { ...fields, error: errorMessage(result.reason) })
      if (this.resource !== undefined) return void this.up.emit('up')
      this.outage.begin(say.lost, { reason: 'lost again while recovering' })
    }
  }

  /** Opens with backoff until a resource is up (undefined once stopped). */
  private async openUntilUp(): Promise<T | undefined> {
    const { logger, fields, say } = this.options
    const backoff = new Backoff(this.options.minMs, this.options.maxMs)
    const signal = this.stopped.signal
    for (let attempt = 1; this.resource === undefined && !signal.aborted; attempt++) {
      this.hurried = false
      try {
        const resource = await this.options.open()
        if (signal.aborted) return void this.options.close(resource).catch(() => undefined)
        this.resource = resource
      } catch (error) {
        const retryInMs = backoff.next()
        logger.debug(say.retry, { ...fields, attempt, retryInMs, error: errorMessage(error) })
        if (this.hurried) continue
        await new Promise<void>((resolve) => {
          this.hurry = resolve
          void pause(retryInMs, signal).then(resolve)
        })
        this.hurry = undefined
      }
    }
    return this.resource
  }
}

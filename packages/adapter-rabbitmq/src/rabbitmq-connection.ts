import { EventEmitter, once } from 'node:events'
import type { Logger } from '@omnibus/core'
import { adapterError, errorMessage, retrying } from '@omnibus/core/adapter'
import amqp, { type ChannelModel } from 'amqplib'
import { connectArguments, type RabbitMQSettings } from './rabbitmq-config.js'

/**
 * One AMQP connection that comes back by itself. When the broker goes away (restart, network,
 * heartbeat timeout) it reconnects with doubling delays, runs its listeners (consumers declare
 * and consume again), and only then wakes the callers waiting in `ready()`, so a publish resumes
 * after the queues it feeds are back. Written here rather than with a recovery option of the
 * client so that every wait is bounded by its caller's signal.
 */
export class Link {
  private model: ChannelModel | undefined
  private readonly up = new EventEmitter().setMaxListeners(0)
  private readonly stop = new AbortController()
  private reconnecting = false
  private readonly listeners = new Set<(model: ChannelModel) => Promise<void> | void>()
  /** Bumped on every new connection, so that per-connection caches know when to forget. */
  generation = 0

  constructor(
    private readonly settings: RabbitMQSettings,
    private readonly logger: Logger,
  ) {}

  /** The first connection; rejects (TRANSPORT_UNAVAILABLE) when the broker cannot be reached. */
  async connect(): Promise<void> {
    try {
      this.attach(await this.open())
    } catch (error) {
      throw adapterError(
        'rabbitmq',
        'TRANSPORT_UNAVAILABLE',
        `cannot connect to ${this.settings.url}; is the broker running and are url/credentials/vhost right?`,
        error,
      )
    }
  }

  /** The connection when it is up, else undefined. */
  get current(): ChannelModel | undefined {
    return this.model
  }

  /** The connection, waiting while it is down; rejects (TRANSPORT_UNAVAILABLE) when `signal` aborts first. */
  async ready(signal: AbortSignal): Promise<ChannelModel> {
    while (!this.model) {
      try {
        await once(this.up, 'up', { signal })
      } catch (error) {
        throw adapterError(
          'rabbitmq',
          'TRANSPORT_UNAVAILABLE',
          `no connection to ${this.settings.url} in time; the broker is down or unreachable and reconnection keeps trying`,
          signal.reason ?? error,
        )
      }
    }
    return this.model
  }

  /** Runs `listener` after every reconnection (not after the first connect); returns its removal. */
  onReconnect(listener: (model: ChannelModel) => Promise<void> | void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  async close(): Promise<void> {
    this.stop.abort()
    this.listeners.clear()
    const model = this.model
    this.model = undefined
    await model?.close().catch(() => undefined)
  }

  private open(): Promise<ChannelModel> {
    const { url, socketOptions } = connectArguments(this.settings)
    return amqp.connect(url, socketOptions)
  }

  private attach(model: ChannelModel): void {
    this.model = model
    this.generation++
    // Without an 'error' listener a connection error would be thrown out of the event loop.
    model.on('error', (error: Error) => this.logger.debug('connection error', { error: error.message }))
    model.on('blocked', (reason: string) => this.logger.warn('the broker blocks publishing', { reason }))
    model.on('close', () => {
      if (this.model !== model) return
      this.model = undefined
      void this.reconnect()
    })
  }

  private async reconnect(): Promise<void> {
    if (this.reconnecting || this.stop.signal.aborted) return
    this.reconnecting = true
    const since = Date.now()
    this.logger.warn('connection lost; reconnecting', { url: this.settings.url })
    const model = await retrying(() => this.open(), {
      minMs: this.settings.reconnectDelayMs,
      maxMs: this.settings.reconnectMaxDelayMs,
      signal: this.stop.signal,
      onError: (error, retryInMs, attempt) =>
        this.logger.debug('reconnect attempt failed', { attempt, retryInMs, error: errorMessage(error) }),
    })
    this.reconnecting = false
    if (!model) return
    if (this.stop.signal.aborted) return void model.close().catch(() => undefined)
    this.attach(model)
    this.logger.info('reconnected', { url: this.settings.url, outageMs: Date.now() - since })
    const results = await Promise.allSettled([...this.listeners].map(async (listener) => listener(model)))
    for (const result of results)
      if (result.status === 'rejected')
        this.logger.warn('a recovery step failed', { error: errorMessage(result.reason) })
    // A listener may have seen the connection drop again: then waiters wait for the next one.
    if (this.model) this.up.emit('up')
  }
}

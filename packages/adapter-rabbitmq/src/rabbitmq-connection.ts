import { type Logger, OmnibusError } from '@omnibus/core'
import amqp, { type ChannelModel } from 'amqplib'
import { connectArguments, type RabbitMQSettings, redact } from './rabbitmq-config.js'
import { errorMessage } from './rabbitmq-errors.js'

/**
 * One AMQP connection that comes back by itself. When the broker goes away
 * (restart, network, heartbeat timeout) it reconnects with doubling delays and
 * then tells its listeners (consumers re-declare and re-consume); meanwhile
 * `ready()` makes callers wait, up to their own deadline. Written here rather
 * than with amqplib's recovery option so that the wait is bounded per call and
 * listeners run before waiting publishers resume.
 */
export class Link {
  private model: ChannelModel | undefined
  private readonly waiters = new Set<(model: ChannelModel) => void>()
  private reconnecting = false
  private closed = false
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
      throw new OmnibusError(
        'TRANSPORT_UNAVAILABLE',
        `[omnibus] [rabbitmq] cannot connect to ${redact(this.settings.url)}: ${errorMessage(error)}; ` +
          'is the broker running and are url/credentials/vhost right?',
        { cause: error },
      )
    }
  }

  /** The connection when it is up, else undefined. */
  get current(): ChannelModel | undefined {
    return this.model
  }

  /** Waits until connected, rejecting at `deadline` (epoch ms) with an error that says the broker is unreachable. */
  async ready(deadline: number): Promise<ChannelModel> {
    if (this.model) return this.model
    if (this.closed)
      throw new OmnibusError('TRANSPORT_CLOSED', '[omnibus] [rabbitmq] the transport is closed')
    let timer: NodeJS.Timeout | undefined
    let waiter: ((model: ChannelModel) => void) | undefined
    try {
      return await new Promise<ChannelModel>((resolve, reject) => {
        waiter = resolve
        this.waiters.add(resolve)
        timer = setTimeout(
          () =>
            reject(
              new OmnibusError(
                'TRANSPORT_UNAVAILABLE',
                `[omnibus] [rabbitmq] no connection to ${redact(this.settings.url)} within the wait ` +
                  '(publishTimeoutMs); the broker is down or unreachable and reconnection keeps trying',
              ),
            ),
          Math.max(0, deadline - Date.now()),
        )
      })
    } finally {
      clearTimeout(timer)
      if (waiter) this.waiters.delete(waiter)
    }
  }

  /** Runs `listener` after every reconnection (not after the first connect). */
  onReconnect(listener: (model: ChannelModel) => Promise<void> | void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  async close(): Promise<void> {
    this.closed = true
    this.listeners.clear()
    const model = this.model
    this.model = undefined
    if (model) await model.close().catch(() => undefined)
  }

  private async open(): Promise<ChannelModel> {
    const { url, socketOptions } = connectArguments(this.settings)
    return amqp.connect(url, socketOptions)
  }

  private attach(model: ChannelModel): void {
    this.model = model
    this.generation++
    // Without an 'error' listener a connection error would be thrown out of the event loop.
    model.on('error', (error: Error) =>
      this.logger.warn('rabbitmq connection error', { error: error.message }),
    )
    model.on('blocked', (reason: string) => this.logger.warn('rabbitmq blocked publishing', { reason }))
    model.on('close', () => {
      if (this.model === model) this.model = undefined
      if (!this.closed) void this.reconnect()
    })
  }

  private async reconnect(): Promise<void> {
    if (this.reconnecting) return
    this.reconnecting = true
    this.logger.warn('rabbitmq connection lost; reconnecting', { url: redact(this.settings.url) })
    let delay = this.settings.reconnectDelayMs
    for (let attempt = 1; !this.closed; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, delay * (0.8 + Math.random() * 0.4)))
      if (this.closed) break
      try {
        const model = await this.open()
        if (this.closed) {
          await model.close().catch(() => undefined)
          break
        }
        this.attach(model)
        this.logger.info('rabbitmq reconnected', { attempt })
        const results = await Promise.allSettled([...this.listeners].map(async (listener) => listener(model)))
        for (const result of results) {
          if (result.status === 'rejected') {
            this.logger.warn('rabbitmq recovery step failed', { error: errorMessage(result.reason) })
          }
        }
        // A listener may have seen the connection drop again already; then waiters keep waiting.
        const current = this.model
        if (current) {
          for (const wake of [...this.waiters]) wake(current)
          this.waiters.clear()
        }
        break
      } catch (error) {
        this.logger.debug('rabbitmq reconnect attempt failed', { attempt, error: errorMessage(error) })
        delay = Math.min(delay * 2, this.settings.reconnectMaxDelayMs)
      }
    }
    this.reconnecting = false
    // Lost again while running the listeners: go round once more.
    if (!this.closed && !this.model) void this.reconnect()
  }
}

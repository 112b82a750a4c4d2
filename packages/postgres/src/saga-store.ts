import type { EnvelopeInput, Logger } from '@omnibus/core'
import { OmnibusError, silentLogger } from '@omnibus/core'

/** One saga instance as stored. */
export interface SagaInstance<S = unknown> {
  state: S
  /** `running` until a handler completes it; then the status it gave (e.g. `confirmed`, `compensated`). */
  status: string
  /** Pending timeouts: name → the id of the scheduled timeout message. */
  timeouts: Record<string, string>
}

/** What a saga run may do besides changing state; the store makes it atomic with the state (or not, in memory). */
export interface SagaEffects {
  /** Sends or publishes now, or after `delayMs` (a scheduled timeout). */
  dispatch(kind: 'event' | 'command', input: EnvelopeInput, delayMs?: number): Promise<void>
  /** Cancels a scheduled message that has not gone out yet. */
  cancel(id: string): Promise<void>
  /** The pg client of the run's transaction (PostgreSQL store only), for the saga's own writes. */
  readonly client?: unknown
}

export interface SagaRun<S> {
  saga: string
  key: string
  /** The message's identity: a message already run on this saga is skipped. */
  messageKey: string
  /** Makes a new instance's state when none exists; absent for messages that do not start the saga. */
  create?: () => S
}

/** One run's logic: gets the instance (undefined if none and not created) and returns it changed, or undefined for no change. */
export type SagaWork<S> = (
  instance: SagaInstance<S> | undefined,
  effects: SagaEffects,
) => Promise<SagaInstance<S> | undefined>

/** Where saga instances live. Runs on one instance are serialised. */
export interface SagaStore {
  /**
   * Loads the instance (or creates it), runs `work`, and stores what it returns, with the
   * message marked as handled. Returns false if the message was handled before.
   */
  run<S>(
    run: SagaRun<S>,
    work: (
      instance: SagaInstance<S> | undefined,
      effects: SagaEffects,
    ) => Promise<SagaInstance<S> | undefined>,
  ): Promise<boolean>
  get<S>(saga: string, key: string): Promise<SagaInstance<S> | undefined>
  /** Instances per status. */
  counts(saga: string): Promise<Record<string, number>>
}

/** What the memory store sends through: a Bus. */
export interface SagaSender {
  publish(input: EnvelopeInput): Promise<void>
  send(input: EnvelopeInput): Promise<void>
}

/**
 * Saga instances in this process, for tests and demos: serialised per instance and
 * deduplicated per message, but nothing survives a restart, and the messages a run sends go
 * out after its state is stored (a failed send is not retried). Use the PostgreSQL store in services.
 */
export class MemorySagaStore implements SagaStore {
  private readonly instances = new Map<string, SagaInstance>()
  private readonly handled = new Set<string>()
  private readonly queues = new Map<string, Promise<unknown>>()
  private readonly timers = new Map<string, NodeJS.Timeout>()
  private sender: SagaSender | undefined

  constructor(private readonly logger: Logger = silentLogger) {}

  /** Where runs send their messages; set by runSaga. */
  bind(sender: SagaSender): void {
    this.sender = sender
  }

  /** Cancels pending timers. */
  close(): void {
    for (const t of this.timers.values()) clearTimeout(t)
    this.timers.clear()
  }

  async run<S>(run: SagaRun<S>, work: SagaWork<S>): Promise<boolean> {
    const id = `${run.saga}\u0000${run.key}`
    const previous = this.queues.get(id) ?? Promise.resolve()
    const next = previous.catch(() => undefined).then(() => this.runNow(id, run, work))
    this.queues.set(id, next)
    try {
      return await next
    } finally {
      if (this.queues.get(id) === next) this.queues.delete(id)
    }
  }

  private async runNow<S>(id: string, run: SagaRun<S>, work: SagaWork<S>): Promise<boolean> {
    const handledKey = `${run.saga}\u0000${run.messageKey}`
    if (this.handled.has(handledKey)) return false
    const stored = this.instances.get(id) as SagaInstance<S> | undefined
    const instance =
      stored !== undefined
        ? structuredClone(stored)
        : run.create
          ? { state: run.create(), status: 'running', timeouts: {} }
          : undefined
    const pending: (() => Promise<void>)[] = []
    const effects: SagaEffects = {
      dispatch: async (kind, input, delayMs = 0) => {
        pending.push(() => this.dispatch(kind, input, delayMs))
      },
      cancel: async (messageId) => {
        pending.push(async () => {
          clearTimeout(this.timers.get(messageId))
          this.timers.delete(messageId)
        })
      },
    }
    const result = await work(instance, effects)
    if (result) this.instances.set(id, structuredClone(result))
    this.handled.add(handledKey)
    for (const effect of pending) await effect()
    return true
  }

  private async dispatch(kind: 'event' | 'command', input: EnvelopeInput, delayMs: number): Promise<void> {
    const sender = this.sender
    if (!sender)
      throw new OmnibusError(
        'BUS_STATE',
        'this MemorySagaStore is not bound to a bus: pass it to runSaga first',
      )
    const go = () => (kind === 'command' ? sender.send(input) : sender.publish(input))
    if (delayMs <= 0) return go()
    const id = input.id ?? crypto.randomUUID()
    const timer = setTimeout(() => {
      this.timers.delete(id)
      go().catch((error: Error) => this.logger.warn('saga timeout not sent', { id, error: error.message }))
    }, delayMs)
    timer.unref?.()
    this.timers.set(id, timer)
  }

  async get<S>(saga: string, key: string): Promise<SagaInstance<S> | undefined> {
    const i = this.instances.get(`${saga}\u0000${key}`)
    return i ? (structuredClone(i) as SagaInstance<S>) : undefined
  }

  async counts(saga: string): Promise<Record<string, number>> {
    const out: Record<string, number> = {}
    for (const [id, i] of this.instances)
      if (id.startsWith(`${saga}\u0000`)) out[i.status] = (out[i.status] ?? 0) + 1
    return out
  }
}

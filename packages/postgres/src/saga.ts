import type { Bus, Envelope, EnvelopeInput } from '@omnibus/core'
import { ConfigError } from '@omnibus/core'
import type { PoolClient } from 'pg'
import { MemorySagaStore, type SagaEffects, type SagaInstance, type SagaStore } from './saga-store.js'

/** What a saga handler gets: the instance's state (change it in place) and what it may do. */
export interface SagaContext<S> {
  state: S
  /** The instance's correlation key. */
  readonly key: string
  /** The message being handled (for a timeout: the timeout message). */
  readonly message: Envelope
  /** The run's transaction with the PostgreSQL store (undefined in memory), for the saga's own writes. */
  readonly client: PoolClient | undefined
  /** Sends a command, in the same transaction as the state (correlation id = the instance key). */
  send<T>(input: EnvelopeInput<T>): Promise<void>
  /** Publishes an event, the same way. */
  publish<T>(input: EnvelopeInput<T>): Promise<void>
  /** Runs the `timeouts[name]` handler after `delayMs` unless cancelled, rescheduled or completed first. */
  schedule(name: string, delayMs: number, data?: unknown): Promise<void>
  cancel(name: string): Promise<void>
  /** Ends the instance with `status` (default `completed`); later messages for it are ignored. */
  complete(status?: string): void
}

// biome-ignore lint/suspicious/noExplicitAny: a saga's messages carry different data types
export type SagaHandler<S> = (message: Envelope<any>, saga: SagaContext<S>) => void | Promise<void>

export interface SagaDefinition<S> {
  /** Names the saga's instances, consumer group and timeout type: a-z, 0-9, `.`, `-`. */
  name: string
  /** Event types that create an instance when none exists for their key. */
  startedBy: readonly string[]
  /** The state of a new instance. */
  // biome-ignore lint/suspicious/noExplicitAny: see SagaHandler
  initial: (message: Envelope<any>) => S
  /** Finds a message's instance. Default: its `correlationid`, or its id when it has none. */
  // biome-ignore lint/suspicious/noExplicitAny: see SagaHandler
  correlate?: (message: Envelope<any>) => string | undefined
  /** A handler per event type the saga reacts to (the start types included). */
  on: Record<string, SagaHandler<S>>
  /** A handler per timeout name, called with the `data` given to schedule(). */
  // biome-ignore lint/suspicious/noExplicitAny: timeouts carry any JSON
  timeouts?: Record<string, (data: any, saga: SagaContext<S>) => void | Promise<void>>
}

const sagaName = /^[a-z0-9][a-z0-9.-]{0,62}$/

/** Checks a saga declaration and returns it (typed). */
export function defineSaga<S>(definition: SagaDefinition<S>): SagaDefinition<S> {
  const key = `saga ${JSON.stringify(definition?.name)}`
  if (!sagaName.test(definition?.name ?? '')) {
    throw new ConfigError(`${key}.name`, 'must be 1-63 characters of a-z, 0-9, "." and "-"')
  }
  if (!definition.startedBy?.length)
    throw new ConfigError(`${key}.startedBy`, 'needs at least one event type')
  for (const type of definition.startedBy) {
    if (typeof definition.on?.[type] !== 'function') {
      throw new ConfigError(`${key}.on`, `has no handler for ${type}, which starts the saga`)
    }
  }
  return definition
}

export const timeoutType = (saga: string): string => `omnibus.saga.${saga}.timeout`

interface TimeoutData {
  key: string
  name: string
  data: unknown
}

/**
 * Subscribes a saga to the bus (before start()): its event types in group `saga.<name>`, and
 * its timeout command. Each message runs in `store`, once per message, serialised per instance.
 */
export function runSaga<S>(bus: Bus, saga: SagaDefinition<S>, store: SagaStore): void {
  if (store instanceof MemorySagaStore) store.bind(bus)
  const correlate =
    saga.correlate ?? ((m: Envelope) => (typeof m.correlationid === 'string' ? m.correlationid : m.id))
  const starts = new Set(saga.startedBy)
  const group = `saga.${saga.name}`

  const handle = async (
    message: Envelope,
    key: string,
    act: (instance: SagaInstance<S>, ctx: SagaContext<S>) => Promise<void>,
  ): Promise<void> => {
    await store.run(
      {
        saga: saga.name,
        key,
        messageKey: `${message.source}\u001f${message.id}`,
        ...(starts.has(message.type) ? { create: () => saga.initial(message) } : {}),
      },
      async (instance, effects) => {
        if (instance?.status !== 'running') return undefined
        const ctx = context(instance, key, message, effects)
        await act(instance, ctx)
        // A completed instance waits for nothing more.
        if (instance.status !== 'running')
          for (const name of Object.keys(instance.timeouts)) await ctx.cancel(name)
        return instance
      },
    )
  }

  for (const [type, handler] of Object.entries(saga.on)) {
    bus.on(
      type,
      async (message, ctx) => {
        const key = correlate(message)
        if (!key) {
          ctx.logger.warn('saga message without a correlation key; ignored', {
            saga: saga.name,
            id: message.id,
          })
          return
        }
        await handle(message, key, (_i, sagaCtx) => Promise.resolve(handler(message, sagaCtx)))
      },
      { group },
    )
  }

  bus.handle(timeoutType(saga.name), async (message) => {
    const t = message.data as TimeoutData
    await handle(message, t.key, async (instance, sagaCtx) => {
      // Stale: rescheduled or cancelled after this timeout was written.
      if (instance.timeouts[t.name] !== message.id) return
      delete instance.timeouts[t.name]
      const handler = saga.timeouts?.[t.name]
      if (handler) await handler(t.data, sagaCtx)
    })
  })

  function context(
    instance: SagaInstance<S>,
    key: string,
    message: Envelope,
    effects: SagaEffects,
  ): SagaContext<S> {
    const follow = <T>(input: EnvelopeInput<T>): EnvelopeInput<T> => ({
      correlationid: key,
      causationid: message.id,
      ...input,
    })
    const cancel = async (name: string): Promise<void> => {
      const id = instance.timeouts[name]
      if (id === undefined) return
      delete instance.timeouts[name]
      await effects.cancel(id)
    }
    return {
      get state() {
        return instance.state
      },
      set state(value: S) {
        instance.state = value
      },
      key,
      message,
      client: effects.client as PoolClient | undefined,
      send: (input) => effects.dispatch('command', follow(input)),
      publish: (input) => effects.dispatch('event', follow(input)),
      async schedule(name, delayMs, data) {
        await cancel(name)
        const id = crypto.randomUUID()
        instance.timeouts[name] = id
        const timeout: TimeoutData = { key, name, data: data ?? null }
        await effects.dispatch(
          'command',
          follow({ type: timeoutType(saga.name), id, data: timeout }),
          delayMs,
        )
      },
      cancel,
      complete(status = 'completed') {
        instance.status = status
      },
    }
  }
}

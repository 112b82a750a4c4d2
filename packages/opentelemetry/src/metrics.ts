import type { MessagingSource, MessagingTarget } from '@omnibus/core/adapter'
import type { AuthorizationRecord } from '@omnibus/core/security'
import type { Attributes, Counter, Histogram, Meter, ObservableResult } from '@opentelemetry/api'
import { A, M, systemOf } from './semconv.js'
import { errorType } from './tracing.js'

/** What a process span reports to the metrics, with its attribute sets made once per subscription. */
export interface ProcessRecord {
  retried(): void
  deadLettered(): void
  done(outcome: 'ok' | 'dead_lettered' | 'failed' | 'released', ms: number, error?: unknown): void
}

/** Durations are recorded in seconds, as the conventions ask. */
const SECONDS = 1 / 1000

/**
 * The conventions' client metrics plus retries, dead letters and malformed input.
 * Attribute sets are cached per channel and per subscription so that the hot path
 * allocates none (and costs nothing measurable when no SDK is registered).
 */
export class Metrics {
  /** Sent and consumed are tallied here and observed at collection: no attribute hashing per message. */
  private readonly sentTally = new Map<Attributes, number>()
  private readonly consumedTally = new Map<Attributes, number>()
  private readonly operationDuration: Histogram
  private readonly processDuration: Histogram
  private readonly retries: Counter
  private readonly deadLetters: Counter
  private readonly malformedMessages: Counter
  private readonly authorizations: Counter
  private readonly targets = new Map<string, Attributes>()
  private readonly byChannel = new WeakMap<object, { transport: string; attributes: Attributes }>()
  private readonly sources = new WeakMap<MessagingSource, SourceRecord>()

  constructor(meter: Meter) {
    meter
      .createObservableCounter(M.sent, { unit: '{message}', description: 'Messages sent' })
      .addCallback((result) => observe(result, this.sentTally))
    meter
      .createObservableCounter(M.consumed, { unit: '{message}', description: 'Messages handed to a handler' })
      .addCallback((result) => observe(result, this.consumedTally))
    this.operationDuration = meter.createHistogram(M.operationDuration, {
      unit: 's',
      description: 'Duration of send operations (until the broker confirmed)',
    })
    this.processDuration = meter.createHistogram(M.processDuration, {
      unit: 's',
      description: 'Duration of handling one delivery, retries included',
    })
    this.retries = meter.createCounter(M.retries, {
      unit: '{attempt}',
      description: 'Handler attempts retried',
    })
    this.deadLetters = meter.createCounter(M.deadLetters, {
      unit: '{message}',
      description: 'Messages moved to a dead-letter channel after failing',
    })
    this.malformedMessages = meter.createCounter(M.malformed, {
      unit: '{message}',
      description: 'Deliveries that were not CloudEvents, dead-lettered as they arrived',
    })
    this.authorizations = meter.createCounter(M.authorizations, {
      unit: '{decision}',
      description: 'Subscriptions the broker allowed and attempts it denied (the audit)',
    })
  }

  sendAttributes(to: MessagingTarget): Attributes {
    // Routes hand out the same channel object each time: found by it first, without making a key.
    const byChannel = this.byChannel.get(to.channel)
    if (byChannel?.transport === to.transport) return byChannel.attributes
    const key = `${to.transport}\u0000${to.channel.kind}\u0000${to.channel.name}`
    let attributes = this.targets.get(key)
    if (!attributes) {
      // Reply queues are one per asking instance: one series for all of them.
      const destination = to.channel.mustExist ? '(reply)' : to.channel.name
      attributes = {
        [A.system]: systemOf(to.system, to.channel.kind === 'topic', false),
        [A.operationName]: 'send',
        [A.destination]: destination,
        [A.transport]: to.transport,
      }
      this.targets.set(key, attributes)
    }
    this.byChannel.set(to.channel, { transport: to.transport, attributes })
    return attributes
  }

  sent(attributes: Attributes, count: number, ms: number): void {
    this.sentTally.set(attributes, (this.sentTally.get(attributes) ?? 0) + count)
    this.operationDuration.record(ms * SECONDS, attributes)
  }

  sendFailed(attributes: Attributes, error: unknown, ms: number): void {
    this.operationDuration.record(ms * SECONDS, { ...attributes, [A.errorType]: errorType(error) })
  }

  processRecord(from: MessagingSource): SourceRecord {
    let record = this.sources.get(from)
    if (!record) {
      record = new SourceRecord(this, from)
      this.sources.set(from, record)
    }
    return record
  }

  malformed(from: MessagingSource): void {
    this.malformedMessages.add(1, this.processRecord(from).base)
  }

  /** One audit decision; subscriptions and denials are rare, so attributes are made each time. */
  authorization(r: AuthorizationRecord): void {
    this.authorizations.add(1, {
      [A.outcome]: r.outcome,
      [A.operationName]: r.operation,
      [A.system]: r.system,
      [A.transport]: r.transport,
      [A.principal]: r.principal,
      ...(r.channel !== undefined ? { [A.destination]: r.channel } : {}),
      ...(r.code !== undefined ? { [A.errorType]: r.code } : {}),
    })
  }

  record(base: Attributes, outcome: string, ms: number, error?: unknown): void {
    const attributes = outcomeAttributes(base, outcome, error === undefined ? undefined : errorType(error))
    this.consumedTally.set(attributes, (this.consumedTally.get(attributes) ?? 0) + 1)
    this.processDuration.record(ms * SECONDS, attributes)
  }

  retried(base: Attributes): void {
    this.retries.add(1, base)
  }

  deadLettered(base: Attributes): void {
    this.deadLetters.add(1, base)
  }
}

const outcomes = new WeakMap<Attributes, Map<string, Attributes>>()

function observe(result: ObservableResult, tally: Map<Attributes, number>): void {
  for (const [attributes, value] of tally) result.observe(value, attributes)
}

/** The subscription's attributes with `omnibus.outcome` (and `error.type`), made once per pair. */
function outcomeAttributes(base: Attributes, outcome: string, error: string | undefined): Attributes {
  let byOutcome = outcomes.get(base)
  if (!byOutcome) {
    byOutcome = new Map()
    outcomes.set(base, byOutcome)
  }
  const key = error === undefined ? outcome : `${outcome}\u0000${error}`
  let attributes = byOutcome.get(key)
  if (!attributes) {
    attributes = { ...base, [A.outcome]: outcome, ...(error === undefined ? {} : { [A.errorType]: error }) }
    byOutcome.set(key, attributes)
  }
  return attributes
}

class SourceRecord implements ProcessRecord {
  readonly base: Attributes
  constructor(
    private readonly metrics: Metrics,
    from: MessagingSource,
  ) {
    this.base = {
      [A.system]: systemOf(from.system, from.channel.kind === 'topic', true),
      [A.operationName]: 'process',
      [A.destination]: from.channel.name,
      [A.group]: from.group,
      [A.transport]: from.transport,
    }
  }
  retried(): void {
    this.metrics.retried(this.base)
  }
  deadLettered(): void {
    this.metrics.deadLettered(this.base)
  }
  done(outcome: string, ms: number, error?: unknown): void {
    this.metrics.record(this.base, outcome, ms, error)
  }
}

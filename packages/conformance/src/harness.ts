import { type Bus, type BusConfig, createBus, type Envelope } from '@omnibus/core'
import type { Capabilities, Handler, Transport } from '@omnibus/core/adapter'
import type { ConformanceOptions } from './options.js'

export interface Sizes {
  roundTrip: number
  publishers: number
  perPublisher: number
  consumers: number
  groupEvents: number
  commands: number
  queries: number
  churn: number
  restart: number
  keys: number
  perKey: number
  /** Rounds of case 21 (stop a member mid-stream). */
  stopRounds: number
}

const FULL: Sizes = {
  roundTrip: 100,
  publishers: 20,
  perPublisher: 250,
  consumers: 10,
  groupEvents: 200,
  commands: 300,
  queries: 100,
  churn: 5000,
  restart: 10_000,
  keys: 16,
  perKey: 100,
  stopRounds: 8,
}

const QUICK: Sizes = {
  roundTrip: 100,
  publishers: 5,
  perPublisher: 50,
  consumers: 4,
  groupEvents: 60,
  commands: 60,
  queries: 30,
  churn: 500,
  restart: 1000,
  keys: 8,
  perKey: 20,
  stopRounds: 4,
}

/** Everything a case needs: sizes, capabilities, unique names, buses that are stopped after the case. */
export class Harness {
  readonly sizes: Sizes
  readonly capabilities: Capabilities
  private readonly buses: Bus[] = []
  private readonly cleanups: (() => Promise<unknown>)[] = []

  constructor(readonly options: ConformanceOptions) {
    const size = options.size ?? (process.env.OMNIBUS_CONFORMANCE_SIZE === 'quick' ? 'quick' : 'full')
    this.sizes = { ...(size === 'quick' ? QUICK : FULL), ...options.sizes }
    this.capabilities = options.capabilities ?? options.createTransport().capabilities
  }

  get patience(): number {
    return this.options.patience ?? 1
  }

  /** A message type (and so a channel) no earlier run has used. */
  type(label: string): string {
    return `com.omnibus.test.${label}.${Math.random().toString(36).slice(2, 10)}`
  }

  group(label: string): string {
    return `${label}-${Math.random().toString(36).slice(2, 8)}`
  }

  /** A bus on a fresh transport from the factory; stopped at the end of the case. */
  async bus(service: string, delivery: BusConfig['delivery'] = {}): Promise<Bus> {
    const bus = await createBus({
      service,
      transports: { t: this.options.createTransport() },
      delivery: { initialDelayMs: 20, maxDelayMs: 500, queryTimeoutMs: 10_000, ...delivery },
    })
    this.buses.push(bus)
    return bus
  }

  /** A started bus with one handler registered by `setup`. */
  async started(service: string, setup: (bus: Bus) => void, delivery?: BusConfig['delivery']): Promise<Bus> {
    const bus = await this.bus(service, delivery)
    setup(bus)
    await bus.start()
    return bus
  }

  /** A connected transport from the factory, for a case that drives it directly; closed at the end of the case. */
  async transport(): Promise<Transport> {
    const t = this.options.createTransport()
    this.onCleanup(() => t.close())
    await t.connect()
    return t
  }

  /** Runs `close` at the end of the case (transports a case drives directly). */
  onCleanup(close: () => Promise<unknown>): void {
    this.cleanups.push(close)
  }

  async cleanup(): Promise<void> {
    await Promise.allSettled(this.buses.splice(0).map((b) => b.stop()))
    await Promise.allSettled(this.cleanups.splice(0).map((close) => close()))
  }

  /** Waits until `condition` holds, polling; fails with `what` and the last detail after the deadline. */
  async until(
    what: string,
    condition: () => boolean,
    timeoutMs = 30_000,
    detail?: () => string,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs * this.patience
    while (!condition()) {
      if (Date.now() > deadline) {
        throw new Error(
          `timed out after ${timeoutMs * this.patience} ms waiting for ${what}${detail ? `: ${detail()}` : ''}`,
        )
      }
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
  }
}

/** Records what handlers saw, per event id. */
export class Recorder {
  readonly seen = new Map<string, number>()
  readonly events: Envelope[] = []
  duplicates = 0

  handler(extra?: (event: Envelope) => void | Promise<void>): Handler {
    return async (event) => {
      await extra?.(event)
      this.record(event)
    }
  }

  record(event: Envelope): void {
    const n = (this.seen.get(event.id) ?? 0) + 1
    this.seen.set(event.id, n)
    if (n > 1) this.duplicates++
    else this.events.push(event)
  }

  has(ids: Iterable<string>): boolean {
    for (const id of ids) if (!this.seen.has(id)) return false
    return true
  }

  missing(ids: Iterable<string>): string[] {
    return [...ids].filter((id) => !this.seen.has(id))
  }
}

export const range = (n: number) => Array.from({ length: n }, (_, i) => i)

export const chunks = <T>(items: readonly T[], size: number): T[][] =>
  range(Math.ceil(items.length / size)).map((i) => items.slice(i * size, (i + 1) * size))

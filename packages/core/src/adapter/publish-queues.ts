/** One publish call: its items wait in a destination's line; it settles once every one of them has. */
interface Call {
  left: number
  failures: { index: number; error: unknown }[] | undefined
  readonly resolve: () => void
  readonly reject: (error: unknown) => void
}

interface Queued<T> {
  readonly item: T
  readonly size: number
  readonly call: Call
  readonly index: number
}

interface Line<T> {
  readonly queue: Queued<T>[]
  running: number
  concurrency: number
  scheduled: boolean
}

/** Some items of one publish call were not confirmed; `failures` index into that call's items. */
export class BatchFailure extends Error {
  constructor(readonly failures: readonly { readonly index: number; readonly error: unknown }[]) {
    super(`${failures.length} item(s) not confirmed`, { cause: failures[0]?.error })
  }
}

export interface PublishQueueOptions<T> {
  /** Most items in one batch. */
  readonly maxItems: number
  /** Most bytes in one batch, by `sizeOf` (an item alone may be larger: the adapter checked it). */
  readonly maxBytes?: number
  readonly sizeOf?: (item: T) => number
  /**
   * `eager`: a batch leaves as soon as a slot is free, so the first item goes alone and the rest
   * gather behind it. Otherwise the line starts after this turn's microtasks, so that publishes
   * issued together leave together.
   */
  readonly eager?: boolean
  /**
   * Sends one batch. Resolves with the items that failed (indexes into `items`), if any;
   * throws when the whole batch failed.
   */
  send(destination: string, items: T[]): Promise<ReadonlyMap<number, unknown> | undefined>
}

/**
 * Per-destination lines that batch concurrent publishes: while a batch is in flight, new items
 * queue up and leave together in the next one, so many concurrent publishes cost a few requests
 * and items of one destination leave in call order. `concurrency` batches per destination are in
 * flight at once (1 keeps the order of batches too). Each `push` settles with its own items:
 * resolved when all were confirmed, else rejected with a `BatchFailure` naming the others.
 */
export class PublishQueues<T> {
  private readonly lines = new Map<string, Line<T>>()
  /** Calls not yet settled, and who waits for there to be none (`idle`). */
  private open = 0
  private idlers: (() => void)[] = []

  constructor(private readonly options: PublishQueueOptions<T>) {}

  push(destination: string, items: readonly T[], concurrency = 1): Promise<void> {
    if (items.length === 0) return Promise.resolve()
    let line = this.lines.get(destination)
    if (!line) {
      line = { queue: [], running: 0, concurrency, scheduled: false }
      this.lines.set(destination, line)
    }
    const target = line
    const sizeOf = this.options.sizeOf
    // Sized before anything is queued or counted: a sizeOf that throws rejects the push alone,
    // with no half-queued call and no open count that idle() would wait on for ever.
    const sizes = sizeOf ? items.map(sizeOf) : undefined
    this.open++
    return new Promise<void>((resolve, reject) => {
      const call: Call = { left: items.length, failures: undefined, resolve, reject }
      for (let index = 0; index < items.length; index++) {
        const item = items[index]!
        target.queue.push({ item, size: sizes ? sizes[index]! : 0, call, index })
        if (this.options.eager) this.pump(destination, target)
      }
      if (!this.options.eager && !target.scheduled) {
        target.scheduled = true
        queueMicrotask(() => {
          target.scheduled = false
          this.pump(destination, target)
        })
      }
    })
  }

  /** Resolves once every call pushed so far has settled (a consumer's settles, before it closes). */
  idle(): Promise<void> {
    if (this.open === 0) return Promise.resolve()
    return new Promise((resolve) => this.idlers.push(resolve))
  }

  private pump(destination: string, line: Line<T>): void {
    const { maxItems, maxBytes = Number.POSITIVE_INFINITY } = this.options
    while (line.running < line.concurrency && line.queue.length > 0) {
      let bytes = 0
      let n = 0
      while (n < line.queue.length && n < maxItems) {
        const size = line.queue[n]!.size
        if (n > 0 && bytes + size > maxBytes) break
        bytes += size
        n++
      }
      const batch = line.queue.splice(0, n)
      line.running++
      void this.send(destination, batch).finally(() => {
        line.running--
        if (line.running === 0 && line.queue.length === 0) {
          if (this.lines.get(destination) === line) this.lines.delete(destination)
        } else this.pump(destination, line)
      })
    }
  }

  private async send(destination: string, batch: Queued<T>[]): Promise<void> {
    let failed: ReadonlyMap<number, unknown> | undefined
    try {
      failed = await this.options.send(
        destination,
        batch.map((q) => q.item),
      )
    } catch (error) {
      failed = new Map(batch.map((_, i) => [i, error]))
    }
    for (let i = 0; i < batch.length; i++) {
      const { call, index } = batch[i]!
      if (failed?.has(i)) {
        call.failures ??= []
        call.failures.push({ index, error: failed.get(i) })
      }
      if (--call.left > 0) continue
      if (call.failures) call.reject(new BatchFailure(call.failures.sort((a, b) => a.index - b.index)))
      else call.resolve()
      if (--this.open === 0) for (const wake of this.idlers.splice(0)) wake()
    }
  }
}

/**
 * The answers to `count` messages sent one after another on a client that confirms each one by
 * callback (AMQP publisher confirms). `settle(i, outcome)` records message i's answer, the first
 * word counting (a client may report one message twice: an error thrown, then its channel's
 * close); `all` resolves with every answer once all are in, or with those so far (the others
 * undefined) as soon as `signal` aborts.
 */
export class PendingConfirms<O> {
  readonly all: Promise<readonly (O | undefined)[]>
  private readonly outcomes: (O | undefined)[]
  private left: number
  private done: () => void = () => undefined

  constructor(count: number, signal?: AbortSignal) {
    this.outcomes = new Array<O | undefined>(count)
    this.left = count
    this.all = new Promise((resolve) => {
      this.done = () => resolve(this.outcomes)
      signal?.addEventListener('abort', this.done, { once: true })
    })
    // An already aborted signal never fires 'abort': answered at once, like a deadline mid-batch.
    if (count === 0 || signal?.aborted) this.done()
  }

  settle(index: number, outcome: O): void {
    if (this.outcomes[index] !== undefined) return
    this.outcomes[index] = outcome
    if (--this.left === 0) this.done()
  }
}

/**
 * Deliveries handed out and not yet settled. A subscription's `close()` stops intake, then
 * waits for `idle()` before it lets go of the broker, so no settle is sent on a closed channel.
 */
export class InFlight {
  private count = 0
  private readonly waiters: (() => void)[] = []

  get size(): number {
    return this.count
  }

  enter(): void {
    this.count++
  }

  leave(): void {
    if (--this.count <= 0) {
      this.count = 0
      for (const wake of this.waiters.splice(0)) wake()
    }
  }

  /** Resolves once nothing is in flight (at once when nothing is). */
  idle(): Promise<void> {
    if (this.count === 0) return Promise.resolve()
    return new Promise((resolve) => this.waiters.push(resolve))
  }
}

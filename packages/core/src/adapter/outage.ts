import type { Logger } from '../logger.js'

/**
 * A broker outage as a consumer or a connection lives through it: one warn when it starts, one
 * info when it ends, with `outageMs` (docs/ADAPTERS.md, checklist item 7), however many failures
 * and retries come in between, so that a long outage does not flood the log.
 */
export class Outage {
  private since: number | undefined

  constructor(private readonly logger: Logger) {}

  /** Whether an outage is on. */
  get active(): boolean {
    return this.since !== undefined
  }

  /** A failure: starts the outage with one warn, unless one is on already. */
  begin(message: string, fields?: Record<string, unknown>): void {
    if (this.since !== undefined) return
    this.since = Date.now()
    this.logger.warn(message, fields)
  }

  /** Working again: ends the outage with one info carrying `outageMs`, if one is on. */
  end(message: string, fields?: Record<string, unknown>): void {
    if (this.since === undefined) return
    this.logger.info(message, { ...fields, outageMs: Date.now() - this.since })
    this.since = undefined
  }
}

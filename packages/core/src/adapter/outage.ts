import type { Logger } from '../logger.js'

/**
 * The outages of one consumer or connection, for its logs: the failure that starts one is
 * logged once at warn, later failures not at all, and the recovery once at info with
 * `outageMs`, so that a broker restart is two lines however many retries it took
 * (docs/ADAPTERS.md, checklist item 7). `fields` go into both lines (the channel, the group).
 */
export class Outage {
  private since: number | undefined

  constructor(
    private readonly logger: Logger,
    private readonly fields: Readonly<Record<string, unknown>> = {},
  ) {}

  /** Whether an outage is open (a failure seen, no success since). */
  get open(): boolean {
    return this.since !== undefined
  }

  /** A failure: logs `message` at warn if it opens an outage; returns whether it did. */
  begin(message: string, fields?: Record<string, unknown>): boolean {
    if (this.since !== undefined) return false
    this.since = Date.now()
    this.logger.warn(message, { ...this.fields, ...fields })
    return true
  }

  /** A success: closes the open outage, if any, logging `message` at info with `outageMs`. */
  end(message: string): void {
    if (this.since === undefined) return
    this.logger.info(message, { ...this.fields, outageMs: Date.now() - this.since })
    this.since = undefined
  }
}

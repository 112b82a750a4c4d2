import { inspect } from 'node:util'
import { AccessDeniedError, type Logger } from '@omnibus/core'
import type { Instrumentation } from '@omnibus/core/adapter'
import type { AuthorizationRecord } from '@omnibus/core/security'
import { expect } from 'vitest'

/** Runs `work`, which must reject with an AccessDeniedError of `code`; returns it and how long it took. */
export async function expectDenied(
  work: () => Promise<unknown>,
  code: 'AUTH_FAILED' | 'FORBIDDEN',
): Promise<{ error: AccessDeniedError; ms: number }> {
  const t0 = Date.now()
  const error = await work().then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error, String(error)).toBeInstanceOf(AccessDeniedError)
  expect((error as AccessDeniedError).code).toBe(code)
  return { error: error as AccessDeniedError, ms: Date.now() - t0 }
}

/** A logger that keeps every line at every level, fields included, as text (for the secret-leak tests). */
export function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = []
  const keep = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    void lines.push(`${level} ${message} ${fields ? JSON.stringify(fields) : ''}`)
  return {
    lines,
    logger: { debug: keep('debug'), info: keep('info'), warn: keep('warn'), error: keep('error') },
  }
}

/**
 * For audit tests: a capturing logger, and an instrumentation that does nothing but keep the
 * authorization records (the audit's metric hook). `fields(line)` reads a line's fields back.
 */
export function auditing(): {
  logger: Logger
  lines: string[]
  records: AuthorizationRecord[]
  instrumentation: Instrumentation
  fields: (line: string | undefined) => Record<string, unknown>
} {
  const { logger, lines } = capturingLogger()
  const records: AuthorizationRecord[] = []
  const instrumentation: Instrumentation = {
    send: (_t, _k, events, publish) => publish(events),
    process: (_f, _e, _d, handle) => handle({ retrying() {}, deadLettered() {}, failed() {} }),
    query: (_t, _q, ask) => ask(),
    authorization: (record) => void records.push(record),
  }
  const fields = (line: string | undefined) => {
    expect(line, 'the audit line').toBeDefined()
    return JSON.parse(line!.slice(line!.indexOf('{'))) as Record<string, unknown>
  }
  return { logger, lines, records, instrumentation, fields }
}

/**
 * Collects everything a secured run shows — log lines at every level, errors with their cause
 * chains and stacks, printed objects — and checks that no secret is in any of it.
 */
export class LeakWatch {
  private readonly capture = capturingLogger()
  readonly logger = this.capture.logger
  private readonly seen: string[] = []

  /** Records what util.inspect (all depths or `depth`) and, where it works, JSON.stringify show of each thing. */
  show(depth: number, ...things: unknown[]): void {
    for (const thing of things) {
      this.seen.push(inspect(thing, { depth }))
      try {
        this.seen.push(JSON.stringify(thing) ?? '')
      } catch {
        // Circular (a bus): inspect showed it.
      }
    }
  }

  /** Waits for each of `attempts`, which must all reject, and records their errors. */
  async failures(attempts: readonly Promise<unknown>[]): Promise<void> {
    for (const outcome of await Promise.allSettled(attempts)) {
      expect(outcome.status).toBe('rejected')
      if (outcome.status === 'rejected')
        this.seen.push(inspect(outcome.reason, { depth: 10 }), String(outcome.reason?.stack))
    }
  }

  /** No secret anywhere; secret options were there and masked; log lines were captured (`logged` among them). */
  check(secrets: readonly string[], logged: RegExp): void {
    const text = [...this.seen, ...this.capture.lines].join('\n')
    expect(this.capture.lines.some((l) => logged.test(l))).toBe(true)
    expect(text).toContain('[redacted]')
    for (const secret of secrets) expect(text).not.toContain(secret)
  }
}

/**
 * For payload-encryption tests: every message as the broker holds it (body and attributes as
 * text) lacks `secret`, names its key id (`enckeyid`), and, given `type`, keeps it in clear.
 */
export function expectSealed(messages: readonly string[], secret: string, type?: string): void {
  for (const message of messages) {
    expect(message).not.toContain(secret)
    expect(message).toContain('enckeyid')
    if (type !== undefined) expect(message).toContain(type)
  }
}

import type { HandlerContext } from '../bus/context.js'
import type { Envelope } from '../envelope/envelope.js'

/**
 * What a middleware returns (instead of calling `next()`) when it acknowledges a
 * delivery without handling it, e.g. a duplicate: counted as `skipped`, not `handled`.
 */
export const SKIPPED: unique symbol = Symbol('omnibus.skipped')

/**
 * Wraps every handler call of a bus. Call `next()` to go on (and return what it
 * returns), skip it to resolve the delivery without handling, throw to fail the attempt.
 */
export type Middleware = (
  event: Envelope,
  context: HandlerContext,
  next: () => Promise<unknown>,
) => Promise<unknown>

/** Runs `middleware` in order around `last`. */
export function compose(
  middleware: readonly Middleware[],
  last: (event: Envelope, context: HandlerContext) => Promise<unknown>,
): (event: Envelope, context: HandlerContext) => Promise<unknown> {
  if (middleware.length === 0) return last
  return (event, context) => {
    const run = (i: number): Promise<unknown> =>
      i === middleware.length ? last(event, context) : middleware[i]!(event, context, () => run(i + 1))
    return run(0)
  }
}

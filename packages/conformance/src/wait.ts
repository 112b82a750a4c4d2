/**
 * Test helpers every package's tests share (issue 14): waiting with a deadline, and names
 * no other test or earlier run uses, so that brokers can forget what a test made.
 */

/** Polls `check` until it returns true, failing with `what` after `timeoutMs`. Never a fixed sleep. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

/** A name no other test (or earlier run) uses. */
export const uniq = (prefix: string): string =>
  `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`

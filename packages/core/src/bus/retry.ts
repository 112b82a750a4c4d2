/** How core retries a failing handler before dead-lettering the message. */
export interface RetryPolicy {
  /** Attempts in all, the first included. Default 3. */
  maxAttempts: number
  /** Delay before the second attempt. Default 100 ms. */
  initialDelayMs: number
  /** Ceiling for any one delay. Default 10 s. */
  maxDelayMs: number
  /** Growth per attempt. Default 2. */
  factor: number
}

export const defaultRetry: RetryPolicy = {
  maxAttempts: 3,
  initialDelayMs: 100,
  maxDelayMs: 10_000,
  factor: 2,
}

/**
 * The wait after failed attempt `attempt` (1-based): exponential, capped, with
 * "equal jitter" (half fixed, half random) so that a burst of failures does not
 * retry in lockstep yet never retries immediately.
 */
export function backoffDelay(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const exp = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.factor ** (attempt - 1))
  return Math.round(exp / 2 + random() * (exp / 2))
}

import { expect } from 'vitest'
import { type BusConfig, ConfigError, createBus } from '../src/index.js'

/** Waits until `condition` holds, checking every few milliseconds, or fails naming `what` at the deadline. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** The ConfigError createBus rejects `config` with (fails the test if it is anything else). */
export async function configError(config: unknown): Promise<ConfigError> {
  const error = await createBus(config as BusConfig).catch((e: unknown) => e)
  expect(error).toBeInstanceOf(ConfigError)
  return error as ConfigError
}

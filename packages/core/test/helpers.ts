import { expect } from 'vitest'
import { type BusConfig, ConfigError, createBus } from '../src/index.js'

/**
 * The suite's own waitFor (what, check, timeoutMs), read from its source: core cannot depend on
 * @omnibus/conformance, which depends on core.
 */
export { waitFor } from '../../conformance/src/wait.js'

/** The ConfigError createBus rejects `config` with (fails the test if it is anything else). */
export async function configError(config: unknown): Promise<ConfigError> {
  const error = await createBus(config as BusConfig).catch((e: unknown) => e)
  expect(error).toBeInstanceOf(ConfigError)
  return error as ConfigError
}

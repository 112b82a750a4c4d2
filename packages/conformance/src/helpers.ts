/** Test helpers the adapters' own tests share (issue 14): a delivery collector and the broker script. */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { Envelope } from '@omnibus/core'
import type { Delivery } from '@omnibus/core/adapter'

/** A handler that keeps every delivery it gets, acknowledging each; `events()` are the decoded ones. */
export function collector(): {
  got: Delivery[]
  events: () => Envelope[]
  handler: (d: Delivery) => Promise<void>
} {
  const got: Delivery[] = []
  return {
    got,
    events: () => got.flatMap((d) => (d.event ? [d.event] : [])),
    handler: async (d) => void got.push(d),
  }
}

/** The repository's scripts/brokers (OMNIBUS_BROKERS_SCRIPT overrides it). */
function brokersScript(): string {
  const script =
    process.env.OMNIBUS_BROKERS_SCRIPT ?? fileURLToPath(new URL('../../../scripts/brokers', import.meta.url))
  if (!existsSync(script)) throw new Error(`no broker script at ${script}; set OMNIBUS_BROKERS_SCRIPT`)
  return script
}

/** Runs scripts/brokers with `args` (e.g. `status`), resolving with its output once it finished. */
export async function brokers(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)('bash', [brokersScript(), ...args], { timeout: 300_000 })
  return stdout
}

/**
 * Restarts one broker (`kafka`, `rabbitmq`, `aws`, `gcp`, …) with the project's script, resolving
 * once it answers again. Hold the shared broker lock for the whole test that calls it.
 */
export async function restartBroker(name: string): Promise<void> {
  await brokers('restart', name)
}

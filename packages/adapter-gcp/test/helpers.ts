import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { PubSub } from '@google-cloud/pubsub'
import { consoleLogger, silentLogger } from '@omnibus/core'
import type { Channel, LogLevel } from '@omnibus/core/adapter'
import { type GcpTransport, type GcpTransportOptions, gcpTransport } from '../src/index.js'

/** The emulator the tests talk to, and the project they use there. */
export const EMULATOR = process.env.PUBSUB_EMULATOR_HOST ?? '127.0.0.1:8085'
export const PROJECT = process.env.OMNIBUS_PUBSUB_PROJECT ?? 'omnibus-test'

/** OMNIBUS_TEST_LOG=debug|info|… shows the transport's log on stderr while debugging a test. */
const level = process.env.OMNIBUS_TEST_LOG as LogLevel | undefined
const logger = level ? consoleLogger(level) : silentLogger

export function makeTransport(options: GcpTransportOptions = {}): GcpTransport {
  return gcpTransport({ projectId: PROJECT, emulatorHost: EMULATOR, ...options }, { logger })
}

/** The broker's own client, for looking behind the transport's back. */
export function rawClient(): PubSub {
  return new PubSub({
    projectId: PROJECT,
    apiEndpoint: EMULATOR,
    emulatorMode: true,
    universeDomain: 'googleapis.com',
  })
}

export function unique(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`
}

export function channel(kind: Channel['kind'], prefix = 'test'): Channel {
  return { name: unique(`${prefix}.${kind}`), kind }
}

export { waitFor } from '@omnibus/conformance'

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')

/**
 * Runs the project's broker script on the emulator (`restart`, `down`, `up`);
 * OMNIBUS_BROKERS_SCRIPT overrides its path. Resolves once the script is done
 * (for `up` and `restart`: once the emulator answers again).
 */
export async function emulator(verb: 'restart' | 'down' | 'up'): Promise<void> {
  const script = process.env.OMNIBUS_BROKERS_SCRIPT ?? resolve(repoRoot, 'scripts/brokers')
  if (!existsSync(script)) throw new Error(`broker script ${script} not found; set OMNIBUS_BROKERS_SCRIPT`)
  await promisify(execFile)('bash', [script, verb, 'gcp'], { timeout: 120_000 })
}

export const restartEmulator = () => emulator('restart')

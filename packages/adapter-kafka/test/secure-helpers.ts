import { execFile, execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { KafkaTransportOptions } from '../src/index.js'

const script = fileURLToPath(new URL('../../../scripts/brokers', import.meta.url))

/** The secured broker's folder: where `scripts/brokers` keeps certs/ and kafka-secure/secrets/. */
export const SECURE_DIR =
  process.env.OMNIBUS_SECURE_DIR ??
  /OMNIBUS_SECURE_DIR=(.*)/.exec(execFileSync('bash', [script, 'env'], { encoding: 'utf8' }))![1]!
export const SECURE_BROKERS = (process.env.OMNIBUS_KAFKA_SECURE_BROKERS ?? '127.0.0.1:9094').split(',')
export const cert = (name: string): string => resolve(SECURE_DIR, 'certs', name)
export const passwordFile = (user: string): string =>
  resolve(SECURE_DIR, 'kafka-secure/secrets', `${user}.password`)
export const password = (user: string): string => readFileSync(passwordFile(user), 'utf8')

/** Options for the secured broker as user `omnibus`, secrets read from files. */
export const secureOptions = (over: Partial<KafkaTransportOptions> = {}): KafkaTransportOptions => ({
  brokers: SECURE_BROKERS,
  ssl: { caFile: cert('ca.pem') },
  sasl: { mechanism: 'scram-sha-512', username: 'omnibus', passwordFile: passwordFile('omnibus') },
  ...over,
})

/** Restarts the secured broker through the project's script, resolving when it answers again. */
export async function restartSecure(): Promise<void> {
  await promisify(execFile)('bash', [script, 'restart', 'kafka-secure'], { timeout: 300_000 })
}

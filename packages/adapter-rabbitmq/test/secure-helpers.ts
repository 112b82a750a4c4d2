import { execFile, execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { RabbitMQTransportOptions } from '../src/index.js'

const script = fileURLToPath(new URL('../../../scripts/brokers', import.meta.url))
const env = (name: string): string =>
  process.env[name] ??
  new RegExp(`${name}=(.*)`).exec(execFileSync('bash', [script, 'env'], { encoding: 'utf8' }))![1]!

/** Where `scripts/brokers` keeps certs/ and rabbitmq-secure/secrets/, and the TLS-only node's URL (vhost omnibus). */
export const SECURE_DIR = env('OMNIBUS_SECURE_DIR')
export const SECURE_URL = env('OMNIBUS_RABBITMQ_SECURE_URL')
export const cert = (name: string): string => resolve(SECURE_DIR, 'certs', name)
export const passwordFile = (user: string): string =>
  resolve(SECURE_DIR, 'rabbitmq-secure/secrets', `${user}.password`)
export const password = (user: string): string => readFileSync(passwordFile(user), 'utf8')

/** Mutual TLS and EXTERNAL: the broker takes the user (omnibus-cert) from the client certificate. */
export const certOptions = (over: Partial<RabbitMQTransportOptions> = {}): RabbitMQTransportOptions => ({
  url: SECURE_URL,
  auth: 'external',
  tls: { caFile: cert('ca.pem'), certFile: cert('client.pem'), keyFile: cert('client.key') },
  ...over,
})

/** amqps with user omnibus and its password from a file. */
export const passwordOptions = (over: Partial<RabbitMQTransportOptions> = {}): RabbitMQTransportOptions => ({
  url: SECURE_URL,
  username: 'omnibus',
  passwordFile: passwordFile('omnibus'),
  tls: { caFile: cert('ca.pem') },
  ...over,
})

export async function restartSecure(): Promise<void> {
  await promisify(execFile)('bash', [script, 'restart', 'rabbitmq-secure'], { timeout: 180_000 })
}

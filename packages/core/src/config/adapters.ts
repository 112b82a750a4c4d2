import { ArgumentError, ConfigError, errorMessage } from '../errors.js'
import { memoryAdapter } from '../transport/memory-transport.js'
import type { TransportAdapter } from '../transport/transport.js'

/** Adapters published by the Omnibus project, loaded on demand so a service installs only what it uses. */
const PACKAGES: Record<string, { pkg: string; client: string }> = {
  kafka: { pkg: '@omnibus/adapter-kafka', client: 'kafkajs' },
  rabbitmq: { pkg: '@omnibus/adapter-rabbitmq', client: 'amqplib' },
  aws: { pkg: '@omnibus/adapter-aws', client: '@aws-sdk/client-sns @aws-sdk/client-sqs' },
  gcp: { pkg: '@omnibus/adapter-gcp', client: '@google-cloud/pubsub' },
}

const registry = new Map<string, TransportAdapter>([[memoryAdapter.name, memoryAdapter as TransportAdapter]])

/** Makes an adapter available to configs under its name (for adapters outside the Omnibus packages). */
export function registerAdapter(adapter: TransportAdapter): void {
  if (
    typeof adapter !== 'object' ||
    adapter === null ||
    typeof adapter.name !== 'string' ||
    adapter.name === '' ||
    typeof adapter.create !== 'function'
  ) {
    throw new ArgumentError(
      'adapter',
      'must be an object with a name (non-empty string) and a create function',
    )
  }
  registry.set(adapter.name, adapter)
}

/** Finds the adapter a config names; `key` is the config key, for the error. */
export async function resolveAdapter(name: string, key: string): Promise<TransportAdapter> {
  const registered = registry.get(name)
  if (registered) return registered
  const known = PACKAGES[name]
  if (!known) {
    throw new ConfigError(
      key,
      `unknown adapter "${name}"; use one of ${[...registry.keys(), ...Object.keys(PACKAGES)].join(', ')}, ` +
        "or registerAdapter() your own (from '@omnibus/core/adapter')",
    )
  }
  let module: { adapter?: TransportAdapter }
  try {
    module = (await import(known.pkg)) as { adapter?: TransportAdapter }
  } catch (error) {
    throw new ConfigError(
      key,
      `adapter "${name}" is not installed: npm install ${known.pkg} ${known.client} (${errorMessage(error)})`,
      { cause: error },
    )
  }
  if (!module.adapter || typeof module.adapter.create !== 'function') {
    throw new ConfigError(key, `${known.pkg} does not export an adapter; is it an Omnibus adapter package?`)
  }
  registry.set(name, module.adapter)
  return module.adapter
}

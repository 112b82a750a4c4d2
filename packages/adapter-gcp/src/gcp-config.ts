import type { ClientConfig, PubSub } from '@google-cloud/pubsub'
import { ConfigError } from '@omnibus/core'

/** Options of the Pub/Sub transport; every one is optional. Plain JSON except `pubsub`. */
export interface GcpTransportOptions {
  /** Google Cloud project. Default: PUBSUB_PROJECT_ID / GOOGLE_CLOUD_PROJECT, else the credentials' project; `omnibus-emulator` against an emulator. */
  projectId?: string
  /** Service-account credentials (`client_email`, `private_key`). Default: Application Default Credentials. */
  credentials?: { client_email: string; private_key: string }
  /** Path of a service-account key file. Default: Application Default Credentials. */
  keyFilename?: string
  /** Pub/Sub endpoint (`host:port`), e.g. a regional endpoint. Default: pubsub.googleapis.com. */
  apiEndpoint?: string
  /** Emulator `host:port`; wins over apiEndpoint. Default: the PUBSUB_EMULATOR_HOST variable, if set. */
  emulatorHost?: string
  /** An existing client; the options above are then ignored, and close() leaves it open. */
  pubsub?: PubSub
  /** Prepended to every topic and subscription name (`prod-`), for sharing one project. Default none. */
  namePrefix?: string
  /** CloudEvents content mode: `binary` (ce- attributes, data as body; default) or `structured` (JSON body). */
  mode?: 'binary' | 'structured'
  /** Create topics and subscriptions on demand. Default true; false makes a missing one a CHANNEL_NOT_FOUND error. */
  provision?: boolean
  /** Publish events with a `partitionkey` under that ordering key, and create ordered subscriptions. Default true. */
  ordering?: boolean
  /** Topic message retention in seconds (600 to 2678400), which lets new groups replay. Default 86400, but 0 (no replay) on the emulator; 0 turns replay off. */
  retentionSeconds?: number
  /** Publisher batching: messages per request (default 500), wait in ms (default 5), bytes (default 9 MB). */
  batching?: { maxMessages?: number; maxMilliseconds?: number; maxBytes?: number }
  /** How long a publish keeps retrying while Pub/Sub is unreachable before it rejects, in ms. Default 30000. */
  publishTimeoutMs?: number
  /** How long the client keeps extending the ack deadline of a running handler, in minutes. Default 15. */
  maxExtensionMinutes?: number
  /** Streaming-pull streams per subscription. Default 1 (flow control is exact with one). */
  streams?: number
}

/** The options with defaults applied and checked. */
export interface ResolvedGcpOptions {
  readonly namePrefix: string
  readonly mode: 'binary' | 'structured'
  readonly provision: boolean
  readonly ordering: boolean
  readonly retentionSeconds: number
  readonly batching: { maxMessages: number; maxMilliseconds: number; maxBytes: number }
  readonly publishTimeoutMs: number
  readonly maxExtensionMinutes: number
  readonly streams: number
}

function positive(
  key: string,
  name: string,
  value: unknown,
  fallback: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > max) {
    throw new ConfigError(
      `${key}.${name}`,
      `must be a number above 0 and at most ${max}, got ${JSON.stringify(value)}`,
    )
  }
  return value
}

/** Checks the options and fills in defaults; throws ConfigError naming the offending key. */
export function resolveOptions(
  options: GcpTransportOptions,
  key: string,
  emulator: boolean,
): ResolvedGcpOptions {
  if (options === null || typeof options !== 'object') throw new ConfigError(key, 'options must be an object')
  for (const name of ['projectId', 'keyFilename', 'apiEndpoint', 'emulatorHost', 'namePrefix'] as const) {
    const value = options[name]
    if (value !== undefined && (typeof value !== 'string' || value.length === 0)) {
      throw new ConfigError(`${key}.${name}`, `must be a non-empty string, got ${JSON.stringify(value)}`)
    }
  }
  if (options.namePrefix !== undefined && !/^[A-Za-z][A-Za-z0-9._~+%-]*$/.test(options.namePrefix)) {
    throw new ConfigError(
      `${key}.namePrefix`,
      'must start with a letter and use only letters, digits and - _ . ~ + % (Pub/Sub resource names)',
    )
  }
  if (options.namePrefix?.toLowerCase().startsWith('goog')) {
    throw new ConfigError(`${key}.namePrefix`, 'must not start with "goog" (reserved by Pub/Sub)')
  }
  const creds = options.credentials
  if (
    creds !== undefined &&
    (typeof creds?.client_email !== 'string' || typeof creds.private_key !== 'string')
  ) {
    throw new ConfigError(
      `${key}.credentials`,
      'must be { client_email, private_key } from a service-account key',
    )
  }
  if (options.mode !== undefined && options.mode !== 'binary' && options.mode !== 'structured') {
    throw new ConfigError(
      `${key}.mode`,
      `must be "binary" or "structured", got ${JSON.stringify(options.mode)}`,
    )
  }
  for (const name of ['provision', 'ordering'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'boolean') {
      throw new ConfigError(`${key}.${name}`, `must be true or false, got ${JSON.stringify(options[name])}`)
    }
  }
  // The emulator hands a topic's retained messages to every new subscription
  // (Pub/Sub starts one at its creation) and cannot seek an ordered one, so
  // retention there would break `latest`; it stays off unless asked for.
  const retention = options.retentionSeconds ?? (emulator ? 0 : 86_400)
  if (typeof retention !== 'number' || !(retention === 0 || (retention >= 600 && retention <= 2_678_400))) {
    throw new ConfigError(
      `${key}.retentionSeconds`,
      `must be 0 (no replay) or between 600 and 2678400 seconds (Pub/Sub's topic retention range), got ${JSON.stringify(retention)}`,
    )
  }
  const batching = options.batching ?? {}
  if (typeof batching !== 'object') throw new ConfigError(`${key}.batching`, 'must be an object')
  return {
    namePrefix: options.namePrefix ?? '',
    mode: options.mode ?? 'binary',
    provision: options.provision ?? true,
    ordering: options.ordering ?? true,
    retentionSeconds: retention,
    batching: {
      // Pub/Sub caps one publish request at 1000 messages and 10 MB.
      maxMessages: positive(key, 'batching.maxMessages', batching.maxMessages, 500, 1000),
      maxMilliseconds: positive(key, 'batching.maxMilliseconds', batching.maxMilliseconds, 5, 60_000),
      maxBytes: positive(key, 'batching.maxBytes', batching.maxBytes, 9 * 1024 * 1024, 10_000_000),
    },
    publishTimeoutMs: positive(key, 'publishTimeoutMs', options.publishTimeoutMs, 30_000),
    maxExtensionMinutes: positive(key, 'maxExtensionMinutes', options.maxExtensionMinutes, 15, 600),
    streams: Math.round(positive(key, 'streams', options.streams, 1, 32)),
  }
}

/** What the Pub/Sub client is built from, when the caller gave no client of its own. */
export function clientConfig(options: GcpTransportOptions): ClientConfig {
  const emulatorHost =
    options.emulatorHost ?? (options.apiEndpoint ? undefined : process.env.PUBSUB_EMULATOR_HOST)
  const projectId =
    options.projectId ??
    process.env.PUBSUB_PROJECT_ID ??
    process.env.GOOGLE_CLOUD_PROJECT ??
    (emulatorHost ? 'omnibus-emulator' : undefined)
  const config: ClientConfig = {}
  if (projectId) config.projectId = projectId
  if (options.credentials) config.credentials = options.credentials
  if (options.keyFilename) config.keyFilename = options.keyFilename
  if (emulatorHost) {
    config.apiEndpoint = emulatorHost
    config.emulatorMode = true
    // Naming the universe spares the client an Application Default Credentials
    // lookup (a metadata-server probe and a warning) that the emulator never needs.
    config.universeDomain = 'googleapis.com'
  } else if (options.apiEndpoint) {
    config.apiEndpoint = options.apiEndpoint
  }
  return config
}

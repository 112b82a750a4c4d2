import type { ClientConfig, PubSub } from '@google-cloud/pubsub'
import { ConfigError } from '@omnibus/core'
import { checkOptions, DEFAULT_PUBLISH_TIMEOUT_MS, type OptionValues } from '@omnibus/core/adapter'
import { gcpOptions } from './gcp-options.js'

/** Options of the Pub/Sub transport, every one optional: see `gcpOptions` and the README. Plain JSON except `pubsub`. */
export interface GcpTransportOptions extends Omit<OptionValues<typeof gcpOptions>, 'pubsub' | 'batching'> {
  /** An existing client; the options above are then ignored, and close() leaves it open. */
  pubsub?: PubSub
  /** Publisher batching: messages per request (default 500), wait in ms (default 5), bytes (default 9 MB). */
  batching?: { maxMessages?: number; maxMilliseconds?: number; maxBytes?: number }
}

/** The options with defaults applied and checked (the client's own ones stay with the client). */
export type ResolvedGcpConfig = Readonly<
  Required<Omit<GcpTransportOptions, keyof ClientOptions | 'batching'>> & {
    batching: Required<NonNullable<GcpTransportOptions['batching']>>
  }
>
type ClientOptions = Pick<
  GcpTransportOptions,
  'projectId' | 'credentials' | 'keyFilename' | 'apiEndpoint' | 'emulatorHost' | 'pubsub'
>

const DEFAULTS = {
  namePrefix: '',
  mode: 'binary',
  provision: true,
  ordering: true,
  publishTimeoutMs: DEFAULT_PUBLISH_TIMEOUT_MS,
  maxExtensionMinutes: 15,
  streams: 1,
} as const

/**
 * Checks the options against gcpOptions and what those specs cannot say, and fills in
 * defaults; throws ConfigError naming the offending key (`transports.main.retentionSeconds`).
 */
export function parseGcpConfig(
  options: GcpTransportOptions,
  key: string,
  emulator: boolean,
): ResolvedGcpConfig {
  const checked = checkOptions(gcpOptions, options, key) as GcpTransportOptions
  // The emulator hands a topic's retained messages to every new subscription
  // (Pub/Sub starts one at its creation) and cannot seek an ordered one, so
  // retention there would break `latest`; it stays off unless asked for.
  const retentionSeconds = checked.retentionSeconds ?? (emulator ? 0 : 86_400)
  if (retentionSeconds !== 0 && retentionSeconds < 600) {
    const range = "0 (no replay) or between 600 and 2678400 seconds (Pub/Sub's topic retention range)"
    throw new ConfigError(`${key}.retentionSeconds`, `must be ${range}, got ${retentionSeconds}`)
  }
  const batching = { maxMessages: 500, maxMilliseconds: 5, maxBytes: 9 * 1024 * 1024, ...checked.batching }
  return { ...DEFAULTS, ...checked, retentionSeconds, batching }
}

/** What the Pub/Sub client is built from, when the caller gave no client of its own. */
export function clientConfig(options: GcpTransportOptions): ClientConfig {
  const emulatorHost =
    options.emulatorHost ?? (options.apiEndpoint ? undefined : process.env.PUBSUB_EMULATOR_HOST)
  const { PUBSUB_PROJECT_ID, GOOGLE_CLOUD_PROJECT } = process.env
  const projectId =
    options.projectId ?? PUBSUB_PROJECT_ID ?? GOOGLE_CLOUD_PROJECT ?? (emulatorHost && 'omnibus-emulator')
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

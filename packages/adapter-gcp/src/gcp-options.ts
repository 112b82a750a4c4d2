import { credentialsOption, type OptionSpecs, publishTimeoutOption } from '@omnibus/core/adapter'

/** A service-account key, as far as the options can tell. */
type ServiceAccountKey = { client_email: string; private_key: string }

/**
 * Every option of the gcp adapter (config `transports.<key>` with `"adapter": "gcp"`; the README has
 * the table) with its type and range, checked by createBus and again by parseGcpConfig (for a
 * transport built in code). GcpTransportOptions is read off it (and documents the `any` and `object` keys).
 */
export const gcpOptions = {
  /** Google Cloud project. Default: PUBSUB_PROJECT_ID / GOOGLE_CLOUD_PROJECT, else the credentials' project; `omnibus-emulator` against an emulator. */
  projectId: { type: 'string' },
  /** Service-account credentials (`client_email`, `private_key`). Default: Application Default Credentials. */
  credentials: credentialsOption<ServiceAccountKey>(
    ['client_email', 'private_key'],
    '{ client_email, private_key } from a service-account key',
  ),
  /** Path of a service-account key file. Default: Application Default Credentials. */
  keyFilename: { type: 'string' },
  /** Pub/Sub endpoint (`host:port`), e.g. a regional endpoint. Default: pubsub.googleapis.com. */
  apiEndpoint: { type: 'string' },
  /** Emulator `host:port`; wins over apiEndpoint. Default: the PUBSUB_EMULATOR_HOST variable, if set. */
  emulatorHost: { type: 'string' },
  pubsub: { type: 'any' },
  /**
   * Prepended to every topic and subscription name (`prod-`), for sharing one project. Default none.
   * Pub/Sub resource names start with a letter and never with `goog`.
   */
  namePrefix: { type: 'string', pattern: /^(?![Gg][Oo][Oo][Gg])[A-Za-z][A-Za-z0-9._~+%-]*$/ },
  /** CloudEvents content mode: `binary` (ce- attributes, data as body; default) or `structured` (JSON body). */
  mode: { type: 'string', oneOf: ['binary', 'structured'] },
  /** Create topics and subscriptions on demand. Default true; false makes a missing one a CHANNEL_NOT_FOUND error. */
  provision: { type: 'boolean' },
  /** Publish events with a `partitionkey` under that ordering key, and create ordered subscriptions. Default true. */
  ordering: { type: 'boolean' },
  /** Topic message retention in seconds (600 to 2678400), which lets new groups replay. Default 86400, but 0 (no replay) on the emulator; 0 turns replay off. */
  retentionSeconds: { type: 'integer', min: 0, max: 2_678_400 },
  batching: {
    type: 'object',
    // Pub/Sub caps one publish request at 1000 messages and 10 MB.
    options: {
      maxMessages: { type: 'integer', max: 1000 },
      maxMilliseconds: { type: 'integer', max: 60_000 },
      maxBytes: { type: 'integer', max: 10_000_000 },
    },
  },
  /** How long a publish waits for Pub/Sub's confirm (retrying meanwhile) before it rejects with PUBLISH_FAILED, in ms. Default 5000. */
  publishTimeoutMs: publishTimeoutOption,
  /** How long the client keeps extending the ack deadline of a running handler, in minutes. Default 15. */
  maxExtensionMinutes: { type: 'integer', max: 600 },
  /** Streaming-pull streams per subscription. Default 1 (flow control is exact with one). */
  streams: { type: 'integer', max: 32 },
} as const satisfies OptionSpecs

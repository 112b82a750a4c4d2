import { hasStrings, type OptionSpecs, publishTimeoutOption } from '@omnibus/core/adapter'

/** Every option of the gcp adapter with its type and range: createBus and parseGcpConfig check them. */
export const gcpOptions: OptionSpecs = {
  projectId: { type: 'string' },
  credentials: {
    type: 'any',
    valid: hasStrings('client_email', 'private_key'),
    expected: '{ client_email, private_key } from a service-account key',
  },
  keyFilename: { type: 'string' },
  apiEndpoint: { type: 'string' },
  emulatorHost: { type: 'string' },
  pubsub: { type: 'any' },
  // Pub/Sub resource names start with a letter and never with `goog`.
  namePrefix: { type: 'string', pattern: /^(?![Gg][Oo][Oo][Gg])[A-Za-z][A-Za-z0-9._~+%-]*$/ },
  mode: { type: 'string', oneOf: ['binary', 'structured'] },
  provision: { type: 'boolean' },
  ordering: { type: 'boolean' },
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
  publishTimeoutMs: publishTimeoutOption,
  maxExtensionMinutes: { type: 'integer', max: 600 },
  streams: { type: 'integer', max: 32 },
}

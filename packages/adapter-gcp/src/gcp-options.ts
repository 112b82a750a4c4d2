import type { OptionSpecs } from '@omnibus/core/adapter'

/**
 * Every option a config may give the gcp adapter, so that createBus refuses a typo
 * (`projectld`) with the nearest valid name, and environment text takes the key's type.
 * Values are then checked in detail by gcp-config.ts.
 */
export const gcpOptions: OptionSpecs = {
  projectId: { type: 'string' },
  credentials: { type: 'any' },
  keyFilename: { type: 'string' },
  apiEndpoint: { type: 'string' },
  emulatorHost: { type: 'string' },
  pubsub: { type: 'any' },
  namePrefix: { type: 'string' },
  mode: { type: 'string', oneOf: ['binary', 'structured'] },
  provision: { type: 'boolean' },
  ordering: { type: 'boolean' },
  retentionSeconds: { type: 'any' },
  batching: { type: 'any' },
  publishTimeoutMs: { type: 'any' },
  maxExtensionMinutes: { type: 'any' },
  streams: { type: 'any' },
}

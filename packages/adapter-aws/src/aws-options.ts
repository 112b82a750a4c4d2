import type { OptionSpecs } from '@omnibus/core/adapter'

/**
 * Every option a config may give the aws adapter, so that createBus refuses a typo
 * (`regin`) with the nearest valid name, and environment text takes the key's type.
 * Values are then checked in detail by aws-config.ts.
 */
export const awsOptions: OptionSpecs = {
  region: { type: 'string' },
  endpoint: { type: 'string' },
  credentials: { type: 'any' },
  namePrefix: { type: 'string' },
  fifo: { type: 'any' },
  provision: { type: 'boolean' },
  visibilityTimeout: { type: 'any' },
  waitTimeSeconds: { type: 'any' },
  publishConcurrency: { type: 'any' },
  snsClient: { type: 'any' },
  sqsClient: { type: 'any' },
  logger: { type: 'any' },
}

import { type OptionSpecs, publishTimeoutOption } from '@omnibus/core/adapter'

/**
 * Every option a config may give the aws adapter, with its type and range, so that createBus
 * refuses a typo (`regin`) with the nearest valid name and environment text takes the key's
 * type; parseAwsConfig runs the same check for code that builds the transport directly, then
 * checks the `any` ones (credentials, fifo, clients) itself.
 */
export const awsOptions: OptionSpecs = {
  region: { type: 'string', pattern: /^[a-z0-9-]+$/ },
  endpoint: { type: 'string' },
  credentials: { type: 'any' },
  /** At most 40 characters, so that channel names keep most of the 80 AWS gives a name. */
  namePrefix: { type: 'string', pattern: /^[A-Za-z0-9_-]{1,40}$/ },
  fifo: { type: 'any' },
  provision: { type: 'boolean' },
  visibilityTimeout: { type: 'integer', min: 3, max: 43_200 },
  waitTimeSeconds: { type: 'integer', min: 0, max: 20 },
  publishConcurrency: { type: 'integer', min: 1, max: 64 },
  publishTimeoutMs: publishTimeoutOption,
  snsClient: { type: 'any' },
  sqsClient: { type: 'any' },
  logger: { type: 'any' },
}

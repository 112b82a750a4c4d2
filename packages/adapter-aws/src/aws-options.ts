import { hasStrings, type OptionSpecs, publishTimeoutOption } from '@omnibus/core/adapter'

/** An AWS SDK v3 client, as far as the options can tell. */
const isClient = (v: unknown) => typeof (v as { send?: unknown } | null)?.send === 'function'

/**
 * Every option a config may give the aws adapter, with its type, range and shape, so that
 * createBus refuses a typo (`regin`) with the nearest valid name and environment text takes the
 * key's type; parseAwsConfig runs the same check for code that builds the transport directly.
 */
export const awsOptions: OptionSpecs = {
  region: { type: 'string', pattern: /^[a-z0-9-]+$/ },
  endpoint: { type: 'string', valid: URL.canParse, expected: 'a URL such as "http://127.0.0.1:4566"' },
  credentials: {
    type: 'any',
    valid: hasStrings('accessKeyId', 'secretAccessKey'),
    expected: '{ accessKeyId, secretAccessKey, sessionToken? } (strings), or left out',
  },
  /** At most 40 characters, so that channel names keep most of the 80 AWS gives a name. */
  namePrefix: { type: 'string', pattern: /^[A-Za-z0-9_-]{1,40}$/ },
  fifo: {
    type: 'any',
    valid: (f) =>
      typeof f === 'boolean' ||
      typeof f === 'function' ||
      (Array.isArray(f) && f.every((name) => typeof name === 'string')),
    expected: 'true, false, a list of channel names or a function (channel) => boolean',
  },
  provision: { type: 'boolean' },
  visibilityTimeout: { type: 'integer', min: 3, max: 43_200 },
  waitTimeSeconds: { type: 'integer', min: 0, max: 20 },
  publishConcurrency: { type: 'integer', min: 1, max: 64 },
  publishTimeoutMs: publishTimeoutOption,
  snsClient: { type: 'any', valid: isClient, expected: 'an SNSClient from the AWS SDK v3' },
  sqsClient: { type: 'any', valid: isClient, expected: 'an SQSClient from the AWS SDK v3' },
  logger: { type: 'any' },
}

import { type OptionSpecs, publishTimeoutOption } from '@omnibus/core/adapter'

/** Whether `v` is an object whose `keys` all hold strings. */
const strings = (v: unknown, ...keys: string[]) =>
  typeof v === 'object' &&
  v !== null &&
  keys.every((key) => typeof (v as Record<string, unknown>)[key] === 'string')
/** An AWS SDK v3 client, as far as the options can tell. */
const isClient = (v: unknown) => typeof (v as { send?: unknown } | null)?.send === 'function'
const isFifo = (f: unknown) =>
  ['boolean', 'function'].includes(typeof f) || (Array.isArray(f) && f.every((n) => typeof n === 'string'))
const CREDENTIALS = 'must be { accessKeyId, secretAccessKey, sessionToken? } (strings), or left out'
const FIFO = 'must be true, false, a list of channel names or a function (channel) => boolean'

/**
 * Every option of the aws adapter (config `transports.<key>` with `"adapter": "aws"`; the README
 * has the table), with its type, range and shape, checked by createBus and again by parseAwsConfig
 * (for a transport built in code): a typo (`regin`) fails naming the nearest valid key, and
 * environment text takes the key's type. AwsTransportOptions is read off it (and documents the `any` keys).
 */
export const awsOptions = {
  /** AWS region (`us-east-1`). Default: the SDK's own resolution (AWS_REGION, profile). */
  region: { type: 'string', pattern: /^[a-z0-9-]+$/ },
  /** Endpoint URL for both services, for moto/LocalStack (`http://127.0.0.1:4566`). Default: AWS's own. */
  endpoint: { type: 'string' },
  credentials: {
    type: 'any',
    check: (c) => (strings(c, 'accessKeyId', 'secretAccessKey') ? undefined : CREDENTIALS),
  },
  /**
   * Prepended to every topic and queue name this transport makes or looks up (`prod-`). Default none.
   * At most 40 characters, so that channel names keep most of the 80 AWS gives a name.
   */
  namePrefix: { type: 'string', pattern: /^[A-Za-z0-9_-]{1,40}$/ },
  fifo: { type: 'any', check: (f) => (isFifo(f) ? undefined : FIFO) },
  /** Create topics, queues and subscriptions on demand. With false, a missing one is CHANNEL_NOT_FOUND. Default true. */
  provision: { type: 'boolean' },
  /** Seconds a received message stays invisible to others; extended while its handler runs. Default 30. */
  visibilityTimeout: { type: 'integer', min: 3, max: 43_200 },
  /** Long-poll wait of each ReceiveMessage, 0–20 s; also the longest a subscription's close() waits. Default 2. */
  waitTimeSeconds: { type: 'integer', min: 0, max: 20 },
  /**
   * Batch publish calls in flight at once, shared by every transport of this process with the same endpoint and
   * region (a FIFO channel: one at a time, to keep order). Default 8.
   */
  publishConcurrency: { type: 'integer', min: 1, max: 64 },
  /**
   * Longest a publish waits for SNS/SQS to confirm before it rejects with PUBLISH_FAILED (the
   * events may or may not be stored); what it held is freed. Default 5000.
   */
  publishTimeoutMs: publishTimeoutOption,
  snsClient: {
    type: 'any',
    check: (v) => (isClient(v) ? undefined : 'must be an SNSClient from the AWS SDK v3'),
  },
  sqsClient: {
    type: 'any',
    check: (v) => (isClient(v) ? undefined : 'must be an SQSClient from the AWS SDK v3'),
  },
  logger: { type: 'any' },
} as const satisfies OptionSpecs

import type { SNSClient } from '@aws-sdk/client-sns'
import type { SQSClient } from '@aws-sdk/client-sqs'
import type { Logger } from '@omnibus/core'
import {
  anyOption,
  channelSwitchOption,
  credentialsOption,
  type OptionSpecs,
  publishTimeoutOption,
} from '@omnibus/core/adapter'

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
const CREDENTIALS = '{ accessKeyId, secretAccessKey, sessionToken? } (strings), or left out'
/** An AWS SDK v3 client of `service`, as far as the options can tell. */
const client = <C>(service: string) =>
  anyOption<C>((v) =>
    typeof (v as { send?: unknown } | null)?.send === 'function'
      ? undefined
      : `must be an ${service}Client from the AWS SDK v3`,
  )

/**
 * Every option of the aws adapter (config `transports.<key>` with `"adapter": "aws"`; the README
 * has the table), with its type, range and shape, checked by createBus and again by parseAwsConfig
 * (for a transport built in code): a typo (`regin`) fails naming the nearest valid key, and
 * environment text takes the key's type. AwsTransportOptions is read off it, with these comments.
 */
export const awsOptions = {
  /** AWS region (`us-east-1`). Default: the SDK's own resolution (AWS_REGION, profile). */
  region: { type: 'string', pattern: /^[a-z0-9-]+$/ },
  /** Endpoint URL for both services, for moto/LocalStack (`http://127.0.0.1:4566`). Default: AWS's own. */
  endpoint: { type: 'string' },
  /** Static credentials. Default: the SDK's default provider chain (env, profile, SSO, instance role …). */
  credentials: credentialsOption<Credentials>(['accessKeyId', 'secretAccessKey'], CREDENTIALS),
  /**
   * Prepended to every topic and queue name this transport makes or looks up (`prod-`). Default none.
   * At most 40 characters, so that channel names keep most of the 80 AWS gives a name.
   */
  namePrefix: { type: 'string', pattern: /^[A-Za-z0-9_-]{1,40}$/ },
  /**
   * Channels that use FIFO topics and queues (`.fifo`), for per-key order and deduplication by event id:
   * `true` for all, a list of channel names, or a predicate (code only). Default false.
   */
  fifo: channelSwitchOption,
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
  /** An SNS client to use instead of building one (region, endpoint and credentials are then ignored for SNS). */
  snsClient: client<SNSClient>('SNS'),
  /** An SQS client to use instead of building one (region, endpoint and credentials are then ignored for SQS). */
  sqsClient: client<SQSClient>('SQS'),
  /** Where the transport logs. Default: the bus's logger. */
  logger: anyOption<Logger>(),
} as const satisfies OptionSpecs

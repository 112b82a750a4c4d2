import type { SNSClient } from '@aws-sdk/client-sns'
import type { SQSClient } from '@aws-sdk/client-sqs'
import { ConfigError, type Logger } from '@omnibus/core'

/** Options of the AWS (SNS + SQS) transport. Every one is optional; plain values can come from a JSON config. */
export interface AwsTransportOptions {
  /** AWS region (`us-east-1`). Default: the SDK's own resolution (AWS_REGION, profile). */
  region?: string
  /** Endpoint URL for both services, for moto/LocalStack (`http://127.0.0.1:4566`). Default: AWS's own. */
  endpoint?: string
  /** Static credentials. Default: the SDK's default provider chain (env, profile, SSO, instance role …). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
  /** Prepended to every topic and queue name this transport makes or looks up (`prod-`). Default none. */
  namePrefix?: string
  /**
   * Channels that use FIFO topics and queues (`.fifo`), for per-key order and deduplication by event id:
   * `true` for all, a list of channel names, or a predicate (code only). Default false.
   */
  fifo?: boolean | readonly string[] | ((channel: string) => boolean)
  /** Create topics, queues and subscriptions on demand. With false, a missing one is CHANNEL_NOT_FOUND. Default true. */
  provision?: boolean
  /** Seconds a received message stays invisible to others; extended while its handler runs. Default 30. */
  visibilityTimeout?: number
  /** Long-poll wait of each ReceiveMessage, 0–20 s; also the longest a subscription's close() waits. Default 2. */
  waitTimeSeconds?: number
  /**
   * Batch publish calls in flight at once, shared by every transport of this process with the same endpoint and
   * region (a FIFO channel: one at a time, to keep order). Default 8.
   */
  publishConcurrency?: number
  /** An SNS client to use instead of building one (region, endpoint and credentials are then ignored for SNS). */
  snsClient?: SNSClient
  /** An SQS client to use instead of building one (region, endpoint and credentials are then ignored for SQS). */
  sqsClient?: SQSClient
  /** Where the transport logs. Default: the bus's logger. */
  logger?: Logger
}

/** Options after validation, with defaults filled in. */
export interface ResolvedAwsOptions {
  readonly region: string | undefined
  readonly endpoint: string | undefined
  readonly credentials: AwsTransportOptions['credentials']
  readonly namePrefix: string
  readonly isFifo: (channel: string) => boolean
  /** True when every channel is FIFO, so per-key order holds everywhere. */
  readonly allFifo: boolean
  readonly provision: boolean
  readonly visibilityTimeout: number
  readonly waitTimeSeconds: number
  readonly publishConcurrency: number
  readonly snsClient: SNSClient | undefined
  readonly sqsClient: SQSClient | undefined
}

/** Longest prefix allowed, so that channel names keep most of the 80 characters AWS gives a name. */
const MAX_PREFIX = 40

/** Checks options, throwing ConfigError that names `<key>.<option>`. */
export function resolveOptions(options: AwsTransportOptions, key: string): ResolvedAwsOptions {
  const bad = (option: string, message: string) => new ConfigError(`${key}.${option}`, message)
  const { region, endpoint, credentials, namePrefix = '', fifo = false, provision = true } = options
  if (region !== undefined && (typeof region !== 'string' || !/^[a-z0-9-]+$/.test(region))) {
    throw bad('region', `must be an AWS region name such as "us-east-1", got ${JSON.stringify(region)}`)
  }
  if (endpoint !== undefined) {
    if (typeof endpoint !== 'string' || !URL.canParse(endpoint)) {
      throw bad('endpoint', `must be a URL such as "http://127.0.0.1:4566", got ${JSON.stringify(endpoint)}`)
    }
  }
  if (credentials !== undefined) {
    if (
      typeof credentials !== 'object' ||
      credentials === null ||
      typeof credentials.accessKeyId !== 'string' ||
      typeof credentials.secretAccessKey !== 'string'
    ) {
      throw bad(
        'credentials',
        'must be { accessKeyId, secretAccessKey, sessionToken? } (strings), or left out',
      )
    }
  }
  if (
    typeof namePrefix !== 'string' ||
    namePrefix.length > MAX_PREFIX ||
    !/^[A-Za-z0-9_-]*$/.test(namePrefix)
  ) {
    throw bad('namePrefix', `must be at most ${MAX_PREFIX} characters of A-Z, a-z, 0-9, "_" and "-"`)
  }
  if (typeof provision !== 'boolean') throw bad('provision', 'must be true or false')
  const visibilityTimeout = options.visibilityTimeout ?? 30
  if (!Number.isInteger(visibilityTimeout) || visibilityTimeout < 3 || visibilityTimeout > 43_200) {
    throw bad('visibilityTimeout', 'must be a whole number of seconds from 3 to 43200')
  }
  const waitTimeSeconds = options.waitTimeSeconds ?? 2
  if (!Number.isInteger(waitTimeSeconds) || waitTimeSeconds < 0 || waitTimeSeconds > 20) {
    throw bad('waitTimeSeconds', 'must be a whole number of seconds from 0 to 20 (SQS long polling)')
  }
  const publishConcurrency = options.publishConcurrency ?? 8
  if (!Number.isInteger(publishConcurrency) || publishConcurrency < 1 || publishConcurrency > 64) {
    throw bad('publishConcurrency', 'must be a whole number from 1 to 64')
  }
  let isFifo: (channel: string) => boolean
  if (typeof fifo === 'boolean') isFifo = () => fifo
  else if (typeof fifo === 'function') isFifo = fifo
  else if (Array.isArray(fifo) && fifo.every((name) => typeof name === 'string')) {
    const names = new Set(fifo)
    isFifo = (channel) => names.has(channel)
  } else throw bad('fifo', 'must be true, false, a list of channel names or a function (channel) => boolean')
  for (const client of ['snsClient', 'sqsClient'] as const) {
    const value = options[client]
    if (value !== undefined && typeof (value as { send?: unknown }).send !== 'function') {
      throw bad(
        client,
        `must be an ${client === 'snsClient' ? 'SNSClient' : 'SQSClient'} from the AWS SDK v3`,
      )
    }
  }
  return {
    region,
    endpoint,
    credentials,
    namePrefix,
    isFifo,
    allFifo: fifo === true,
    provision,
    visibilityTimeout,
    waitTimeSeconds,
    publishConcurrency,
    snsClient: options.snsClient,
    sqsClient: options.sqsClient,
  }
}

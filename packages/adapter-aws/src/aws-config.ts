import type { SNSClient } from '@aws-sdk/client-sns'
import type { SQSClient } from '@aws-sdk/client-sqs'
import type { Logger } from '@omnibus/core'
import { checkOptions, DEFAULT_PUBLISH_TIMEOUT_MS } from '@omnibus/core/adapter'
import { awsOptions } from './aws-options.js'

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
  /**
   * Longest a publish waits for SNS/SQS to confirm before it rejects with PUBLISH_FAILED (the
   * events may or may not be stored); what it held is freed. Default 5000.
   */
  publishTimeoutMs?: number
  /** An SNS client to use instead of building one (region, endpoint and credentials are then ignored for SNS). */
  snsClient?: SNSClient
  /** An SQS client to use instead of building one (region, endpoint and credentials are then ignored for SQS). */
  sqsClient?: SQSClient
  /** Where the transport logs. Default: the bus's logger. */
  logger?: Logger
}

/** Options after validation, with defaults filled in. */
export type AwsConfig = Required<Omit<AwsTransportOptions, 'fifo' | 'logger' | OptionalKeys>> &
  Pick<AwsTransportOptions, OptionalKeys> & {
    readonly isFifo: (channel: string) => boolean
    /** True when every channel is FIFO, so per-key order holds everywhere. */
    readonly allFifo: boolean
  }
type OptionalKeys = 'region' | 'endpoint' | 'credentials' | 'snsClient' | 'sqsClient'

/** Checks options against awsOptions, throwing ConfigError that names `<key>.<option>`, and fills in defaults. */
export function parseAwsConfig(raw: AwsTransportOptions, key: string): AwsConfig {
  const options = checkOptions(awsOptions, raw, key) as AwsTransportOptions
  const { fifo = false } = options
  const names = new Set(Array.isArray(fifo) ? fifo : [])
  const isFifo = typeof fifo === 'function' ? fifo : (channel: string) => fifo === true || names.has(channel)
  return {
    ...options,
    namePrefix: options.namePrefix ?? '',
    provision: options.provision ?? true,
    visibilityTimeout: options.visibilityTimeout ?? 30,
    waitTimeSeconds: options.waitTimeSeconds ?? 2,
    publishConcurrency: options.publishConcurrency ?? 8,
    publishTimeoutMs: options.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS,
    isFifo,
    allFifo: fifo === true,
  }
}

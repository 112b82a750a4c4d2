import type { SNSClient } from '@aws-sdk/client-sns'
import type { SQSClient } from '@aws-sdk/client-sqs'
import { ConfigError, type Logger } from '@omnibus/core'
import { checkOptions, DEFAULT_PUBLISH_TIMEOUT_MS, type OptionValues } from '@omnibus/core/adapter'
import { awsOptions } from './aws-options.js'

type Checked = OptionValues<typeof awsOptions>

/** Options of the AWS (SNS + SQS) transport, every one optional: see `awsOptions` and the README. */
export interface AwsTransportOptions
  extends Omit<Checked, 'credentials' | 'fifo' | 'snsClient' | 'sqsClient' | 'logger'> {
  /** Static credentials. Default: the SDK's default provider chain (env, profile, SSO, instance role …). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
  /**
   * Channels that use FIFO topics and queues (`.fifo`), for per-key order and deduplication by event id:
   * `true` for all, a list of channel names, or a predicate (code only). Default false.
   */
  fifo?: boolean | readonly string[] | ((channel: string) => boolean)
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
  const { endpoint, fifo = false } = options
  if (endpoint !== undefined && !URL.canParse(endpoint)) {
    const example = 'must be a URL such as "http://127.0.0.1:4566"'
    throw new ConfigError(`${key}.endpoint`, `${example}, got ${JSON.stringify(endpoint)}`)
  }
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

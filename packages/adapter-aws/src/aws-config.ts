import { ConfigError } from '@omnibus/core'
import {
  channelSwitch,
  checkOptions,
  DEFAULT_PUBLISH_TIMEOUT_MS,
  type OptionValues,
} from '@omnibus/core/adapter'
import { awsOptions } from './aws-options.js'

/** Options of the AWS (SNS + SQS) transport, every one optional: see `awsOptions` and the README. */
export type AwsTransportOptions = OptionValues<typeof awsOptions>

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
  const { endpoint, fifo } = options
  if (endpoint !== undefined && !URL.canParse(endpoint)) {
    const example = 'must be a URL such as "http://127.0.0.1:4566"'
    throw new ConfigError(`${key}.endpoint`, `${example}, got ${JSON.stringify(endpoint)}`)
  }
  return {
    ...options,
    namePrefix: options.namePrefix ?? '',
    provision: options.provision ?? true,
    visibilityTimeout: options.visibilityTimeout ?? 30,
    waitTimeSeconds: options.waitTimeSeconds ?? 2,
    publishConcurrency: options.publishConcurrency ?? 8,
    publishTimeoutMs: options.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS,
    isFifo: channelSwitch(fifo),
    allFifo: fifo === true,
  }
}

import { SNSClient } from '@aws-sdk/client-sns'
import { GetQueueAttributesCommand, ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs'
import { type Envelope, type Logger, silentLogger } from '@omnibus/core'
import {
  adapterLogger,
  type Capabilities,
  type Channel,
  type DeliveryHandler,
  errorIs,
  errorMessage,
  type SubscribeOptions,
  type Subscription,
  type Transport,
  type TransportAdapter,
  type TransportContext,
} from '@omnibus/core/adapter'
import { MAX_MESSAGE_BYTES } from './aws-binding.js'
import { type AwsConfig, type AwsTransportOptions, parseAwsConfig } from './aws-config.js'
import { AwsConsumer } from './aws-consumer.js'
import { awsError, isUnreachable } from './aws-errors.js'
import { awsOptions } from './aws-options.js'
import { AwsProvisioner } from './aws-provisioner.js'
import { AwsPublisher } from './aws-publisher.js'

export const AWS = 'aws'

/** Enough sockets that long polls of many subscriptions never starve publishes (the SDK default is 50). */
const MAX_SOCKETS = 256

/**
 * Omnibus over SNS + SQS: a topic channel is an SNS topic and each of its groups
 * an SQS queue subscribed to it (raw delivery); a queue channel is an SQS queue.
 */
export class AwsTransport implements Transport {
  readonly name = AWS
  readonly capabilities: Capabilities
  private readonly options: AwsConfig
  private readonly logger: Logger
  private readonly sns: SNSClient
  private readonly sqs: SQSClient
  private readonly provisioner: AwsProvisioner
  private readonly publisher: AwsPublisher

  constructor(options: AwsTransportOptions = {}, context?: TransportContext) {
    this.options = parseAwsConfig(options, context?.key ?? 'transports.aws')
    this.logger = adapterLogger(options.logger ?? context?.logger ?? silentLogger, AWS)
    const { region, endpoint, credentials, waitTimeSeconds } = this.options
    const config = {
      region: region ?? (endpoint ? 'us-east-1' : undefined),
      ...(endpoint ? { endpoint } : {}),
      ...(credentials ? { credentials } : {}),
      requestHandler: {
        connectionTimeout: 5000,
        // Long enough for a long poll to come back on its own.
        requestTimeout: (waitTimeSeconds + 15) * 1000,
        httpAgent: { keepAlive: true, maxSockets: MAX_SOCKETS },
        httpsAgent: { keepAlive: true, maxSockets: MAX_SOCKETS },
      },
    }
    // No retries inside the SDK for SNS: the publisher retries itself, after checking that the topic
    // still feeds every queue it knows (a retry into a topic re-created empty would confirm into the void).
    this.sns = this.options.snsClient ?? new SNSClient({ ...config, maxAttempts: 1 })
    this.sqs = this.options.sqsClient ?? new SQSClient(config)
    this.provisioner = new AwsProvisioner(this.sns, this.sqs, this.options)
    const endpointKey = `${endpoint ?? 'aws'}|${config.region ?? ''}`
    this.publisher = new AwsPublisher(this.sns, this.sqs, this.provisioner, this.options, endpointKey)
    this.capabilities = {
      ordering: this.options.allFifo,
      orderedChannel: (channel) => this.options.isFifo(channel),
      replay: false,
      maxMessageBytes: MAX_MESSAGE_BYTES,
      // AWS itself keeps everything but cannot be restarted; the emulators it is tested on forget everything.
      durableAcrossRestart: false,
      notes: {
        replay: 'SQS deletes what it delivered and SNS keeps nothing, so a new group cannot read the past',
        ...(this.options.allFifo
          ? {}
          : {
              ordering: 'per-key order needs FIFO topics and queues: set fifo: true (standard SQS reorders)',
            }),
        restart:
          'moto forgets every topic, queue and message when it restarts; the transport makes them again',
      },
    }
  }

  /** Checks that SQS answers, so a wrong endpoint or missing credentials fail at start and not at first use. */
  async connect(): Promise<void> {
    try {
      await this.sqs.send(new ListQueuesCommand({ MaxResults: 1 }))
    } catch (error) {
      const hint =
        'cannot reach SQS; check region, endpoint and credentials (or the SDK default credential chain)'
      if (isUnreachable(error) || errorIs(error, 'CredentialsProviderError'))
        throw awsError('TRANSPORT_UNAVAILABLE', hint, error)
      // Anything else (say, no permission to list queues) does not stop publishing or consuming.
      this.logger.debug('ListQueues check failed; carrying on', { error: errorMessage(error) })
    }
  }

  publish(channel: Channel, events: readonly Envelope[]): Promise<void> {
    return this.publisher.publish(channel, events)
  }

  /** A queue channel's own queue whatever the group (so too in subscribe and backlog). */
  async provision(channel: Channel, group: string): Promise<void> {
    await this.provisioner.groupQueue(channel, group)
  }

  async subscribe(
    channel: Channel,
    group: string,
    handler: DeliveryHandler,
    options: SubscribeOptions,
  ): Promise<Subscription> {
    const deps = { sqs: this.sqs, provisioner: this.provisioner, options: this.options, logger: this.logger }
    const consumer = new AwsConsumer(deps, channel, group, handler, options)
    await consumer.start()
    return consumer
  }

  /**
   * The group queue's messages waiting plus those received and not yet deleted (SQS's approximate
   * counts, which settle within about a minute on AWS).
   */
  async backlog(channel: Channel, group: string): Promise<number> {
    const { url } = await this.provisioner.groupQueue(channel, group)
    const names = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] as const
    const { Attributes = {} } = await this.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: [...names] }),
    )
    return names.reduce((sum, name) => sum + Number(Attributes[name] ?? 0), 0)
  }

  /** Core closed every subscription before this (see Transport.close). */
  async close(): Promise<void> {
    // Only the clients this transport built; ones passed in belong to the caller.
    if (!this.options.snsClient) this.sns.destroy()
    if (!this.options.sqsClient) this.sqs.destroy()
  }
}

/** Builds the AWS transport from options (for code; configs name the adapter `aws`). */
export function awsTransport(options: AwsTransportOptions = {}, context?: TransportContext): AwsTransport {
  return new AwsTransport(options, context)
}

export const adapter: TransportAdapter<AwsTransportOptions> = {
  name: AWS,
  options: awsOptions,
  create: (options, context) => new AwsTransport(options, context),
}

import { type Message, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs'
import type { Logger } from '@omnibus/core'
import {
  type Channel,
  type DeliveryHandler,
  errorMessage,
  KeyedSerial,
  Outage,
  PullLoops,
  type SettleBatches,
  type SubscribeOptions,
  type Subscription,
} from '@omnibus/core/adapter'
import { decodeSqsMessage } from './aws-binding.js'
import type { AwsConfig } from './aws-config.js'
import { isQueueMissing } from './aws-errors.js'
import type { AwsProvisioner } from './aws-provisioner.js'
import { type SqsSettle, sqsSettles } from './aws-settler.js'

/** With short polling (waitTimeSeconds 0), how long to wait after an empty receive, at most. */
const IDLE_MAX_MS = 500

/**
 * FIFO queues: one receive at a time per queue in this process. SQS itself never hands a
 * message group to two receivers at once, but emulators do not all get that right under
 * concurrent receives (moto checks the group locks against a snapshot taken when the call
 * began); taking turns keeps per-key order there too, at little cost, since a FIFO queue
 * hands out a group's messages to one receiver at a time anyway.
 */
const fifoTurns = new KeyedSerial()

/** What a consumer shares with its transport. */
export interface ConsumerDeps {
  readonly sqs: SQSClient
  readonly provisioner: AwsProvisioner
  readonly options: AwsConfig
  readonly logger: Logger
}

/**
 * One member of a group: the toolkit's PullLoops on the group's queue, long-polling receives
 * that ask only for as many messages as there is room for (`maxInFlight`), handing each to the
 * handler in the order received, deleting it once the handler resolved, making it visible again
 * at once when the handler rejected, and extending the visibility of messages whose handlers are
 * still running (a lease renewed every third of visibilityTimeout).
 */
export class AwsConsumer implements Subscription {
  private readonly settles: SettleBatches<SqsSettle>
  private readonly pull: PullLoops<Message>
  private readonly fifo: boolean
  private readonly outage: Outage

  constructor(
    private readonly deps: ConsumerDeps,
    private readonly channel: Channel,
    private readonly group: string,
    handler: DeliveryHandler,
    private readonly subscribe: SubscribeOptions,
  ) {
    this.settles = sqsSettles(deps.sqs, () => this.queueUrl(), deps.logger)
    this.fifo = deps.provisioner.fifo(channel)
    this.outage = new Outage(deps.logger, { channel: channel.name, group })
    const { visibilityTimeout, waitTimeSeconds } = deps.options
    this.pull = new PullLoops<Message>({
      maxInFlight: Math.max(1, subscribe.maxInFlight),
      maxBatch: 10,
      // A FIFO queue's receives take turns anyway; elsewhere parallel ones (the toolkit's default) keep it fed.
      loops: this.fifo ? 1 : undefined,
      idle: waitTimeSeconds === 0 ? { minMs: 25, maxMs: IDLE_MAX_MS } : undefined,
      receive: (room) => this.receive(room),
      onError: (error) => this.lost(error),
      onReceived: () => this.outage.end('consumer receiving again'),
      // decodeSqsMessage never throws: what is not a CloudEvent is handed on as malformed.
      handle: (message) => handler(decodeSqsMessage(message)),
      settle: ({ ReceiptHandle }, ok) => {
        if (ok) this.settles.push('delete', { receiptHandle: ReceiptHandle! })
        else this.settles.push('visibility', { receiptHandle: ReceiptHandle!, visibility: 0 })
      },
      lease: {
        everyMs: (visibilityTimeout * 1000) / 3,
        renew: ({ ReceiptHandle }) =>
          this.settles.push('visibility', { receiptHandle: ReceiptHandle!, visibility: visibilityTimeout }),
      },
    })
  }

  /** Makes the queue exist (so errors such as CHANNEL_NOT_FOUND surface at subscribe), then starts receiving. */
  async start(): Promise<void> {
    await this.queueUrl()
    this.pull.start()
  }

  /** Core's wrapper calls it once. */
  async close(): Promise<void> {
    // The receive in flight is not aborted (its messages would stay invisible for the whole
    // timeout); it returns within waitTimeSeconds, and only then is what was left given back.
    await this.pull.stop()
    await this.settles.flush()
    if (this.subscribe.temporary) {
      await this.deps.provisioner.remove(this.channel, this.group).catch((error: unknown) => {
        this.deps.logger.warn('could not remove a temporary queue', { error: errorMessage(error) })
      })
    }
  }

  private async queueUrl(): Promise<string> {
    return (await this.deps.provisioner.groupQueue(this.channel, this.group)).url
  }

  private async receive(room: number): Promise<Message[]> {
    const QueueUrl = await this.queueUrl()
    const { waitTimeSeconds, visibilityTimeout } = this.deps.options
    const receive = () =>
      this.deps.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl,
          MaxNumberOfMessages: room,
          WaitTimeSeconds: waitTimeSeconds,
          VisibilityTimeout: visibilityTimeout,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      )
    if (!this.fifo) return (await receive()).Messages ?? []
    // Settle first: a group stays locked until its received messages are deleted.
    await this.settles.flush()
    return (await fifoTurns.run(QueueUrl, receive)).Messages ?? []
  }

  /**
   * A receive failed: the broker unreachable, or the queue gone (deleted, or forgotten by a
   * restarting broker), which is then made again with its subscription. Logged once per outage.
   */
  private lost(error: unknown): void {
    if (isQueueMissing(error)) this.deps.provisioner.forgetGroup(this.channel, this.group)
    const what = isQueueMissing(error) ? 'its queue vanished' : 'lost the broker'
    this.outage.begin(`consumer ${what}; retrying with backoff until it is back`, {
      error: errorMessage(error),
    })
  }
}

import { type Message, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs'
import type { Logger } from '@omnibus/core'
import {
  type Channel,
  type DeliveryHandler,
  errorMessage,
  KeyedSerial,
  Outage,
  pause,
  retrying,
  type SubscribeOptions,
  type Subscription,
} from '@omnibus/core/adapter'
import { decodeSqsMessage } from './aws-binding.js'
import type { AwsConfig } from './aws-config.js'
import { isQueueMissing } from './aws-errors.js'
import type { AwsProvisioner } from './aws-provisioner.js'
import { AwsSettler } from './aws-settler.js'

const MAX_RECEIVE = 10
/**
 * Receives in flight at once per subscription: one per 4 of maxInFlight, at most 3. A single
 * loop leaves a subscription idle for a round trip after every batch; parallel ones keep it fed.
 */
const MAX_LOOPS = 3
const LOOP_PER_IN_FLIGHT = 4
const BACKOFF_MIN_MS = 100
const BACKOFF_MAX_MS = 3000
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

interface Held {
  readonly receiptHandle: string
  extendedAt: number
}

/**
 * One member of a group: long-polling receive loops on the group's queue that
 * ask only for as many messages as there is room for (`maxInFlight`), hand each
 * to the handler in the order received, delete it once the handler resolved,
 * make it visible again at once when the handler rejected, and keep extending
 * the visibility of messages whose handlers are still running.
 */
export class AwsConsumer implements Subscription {
  private readonly held = new Map<string, Held>()
  private readonly settler: AwsSettler
  private readonly stopping = new AbortController()
  private loops: Promise<void>[] = []
  /** Receipt handles given back while closing, released at the end of close(). */
  private readonly released: string[] = []
  /** Messages asked for by receives in flight: counted against maxInFlight like held ones. */
  private reserved = 0
  private waiters: (() => void)[] = []
  private extender: NodeJS.Timeout | undefined
  private readonly fifo: boolean
  private readonly outage: Outage

  constructor(
    private readonly sqs: SQSClient,
    private readonly provisioner: AwsProvisioner,
    private readonly channel: Channel,
    private readonly group: string,
    private readonly handler: DeliveryHandler,
    private readonly subscribe: SubscribeOptions,
    private readonly options: AwsConfig,
    private readonly logger: Logger,
  ) {
    this.settler = new AwsSettler(sqs, () => this.queueUrl(), logger)
    this.fifo = provisioner.fifo(channel)
    this.outage = new Outage(logger, { channel: channel.name, group })
  }

  /** Makes the queue exist (so errors such as CHANNEL_NOT_FOUND surface at subscribe), then starts receiving. */
  async start(): Promise<void> {
    await this.queueUrl()
    // A FIFO queue's receives take turns anyway; elsewhere parallel receives keep a wide subscription fed.
    const loops = this.fifo
      ? 1
      : Math.min(MAX_LOOPS, Math.ceil(this.subscribe.maxInFlight / LOOP_PER_IN_FLIGHT))
    for (let i = 0; i < loops; i++) this.loops.push(this.receiveLoop())
    const every = (this.options.visibilityTimeout * 1000) / 3
    this.extender = setInterval(() => this.extend(every), every)
    this.extender.unref()
  }

  /** Core's wrapper calls it once. */
  async close(): Promise<void> {
    this.stopping.abort()
    this.wakeAll()
    // The receive in flight is not aborted (its messages would stay invisible for the whole
    // timeout); it returns within waitTimeSeconds. What this member gives back is released
    // only once every receive has returned: a release while another receive is still open
    // hands the message straight back to it, and each receive raises its receive count.
    await Promise.all(this.loops)
    while (this.held.size > 0) await this.settled()
    clearInterval(this.extender)
    for (const receiptHandle of this.released.splice(0)) this.settler.changeVisibility(receiptHandle, 0)
    await this.settler.flush()
    if (this.subscribe.temporary) {
      await this.provisioner.remove(this.channel, this.group).catch((error: unknown) => {
        this.logger.warn('could not remove a temporary queue', { error: errorMessage(error) })
      })
    }
  }

  private async queueUrl(): Promise<string> {
    return (await this.provisioner.groupQueue(this.channel, this.group)).url
  }

  private async receiveLoop(): Promise<void> {
    const signal = this.stopping.signal
    let idle = 0
    while (!signal.aborted) {
      const room = Math.min(MAX_RECEIVE, this.subscribe.maxInFlight - this.held.size - this.reserved)
      if (room <= 0) {
        await this.settled()
        continue
      }
      this.reserved += room
      const messages = await retrying(() => this.receive(room), {
        minMs: BACKOFF_MIN_MS,
        maxMs: BACKOFF_MAX_MS,
        signal,
        onError: (error) => this.lost(error),
      }).finally(() => {
        this.reserved -= room
      })
      if (messages === undefined) break // closed while the broker was away
      this.outage.end('consumer receiving again')
      if (messages.length === 0 && this.options.waitTimeSeconds === 0) {
        idle = Math.min(IDLE_MAX_MS, Math.max(25, idle * 2))
        await pause(idle, signal)
      } else idle = 0
      for (const message of messages) {
        if (signal.aborted) this.released.push(message.ReceiptHandle!)
        else this.dispatch(message)
      }
    }
  }

  private async receive(room: number): Promise<Message[]> {
    const QueueUrl = await this.queueUrl()
    const receive = () =>
      this.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl,
          MaxNumberOfMessages: room,
          WaitTimeSeconds: this.options.waitTimeSeconds,
          VisibilityTimeout: this.options.visibilityTimeout,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        }),
      )
    if (!this.fifo) return (await receive()).Messages ?? []
    // Settle first: a group stays locked until its received messages are deleted.
    await this.settler.flush()
    return (await fifoTurns.run(QueueUrl, receive)).Messages ?? []
  }

  /**
   * A receive failed: the broker unreachable, or the queue gone (deleted, or forgotten by a
   * restarting broker), which is then made again with its subscription. Logged once per outage.
   */
  private lost(error: unknown): void {
    if (isQueueMissing(error)) this.provisioner.forgetGroup(this.channel, this.group)
    const what = isQueueMissing(error) ? 'its queue vanished' : 'lost the broker'
    this.outage.begin(`consumer ${what}; retrying with backoff until it is back`, {
      error: errorMessage(error),
    })
  }

  private dispatch(message: Message): void {
    const receiptHandle = message.ReceiptHandle!
    const key = message.MessageId ?? receiptHandle
    this.held.set(key, { receiptHandle, extendedAt: Date.now() })
    const settle = (ok: boolean) => {
      this.held.delete(key)
      if (ok) this.settler.delete(receiptHandle)
      else if (this.stopping.signal.aborted) this.released.push(receiptHandle)
      else this.settler.changeVisibility(receiptHandle, 0)
      this.wakeAll()
    }
    // decodeSqsMessage does not throw; if it ever did, the message is left to the broker.
    Promise.resolve(message)
      .then((m) => this.handler(decodeSqsMessage(m)))
      .then(
        () => settle(true),
        () => settle(false),
      )
  }

  /** Resolves at the next settle (or close). */
  private settled(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  private wakeAll(): void {
    for (const wake of this.waiters.splice(0)) wake()
  }

  /** Pushes back the visibility timeout of messages whose handlers are still running. */
  private extend(every: number): void {
    const due = Date.now() - every
    for (const held of this.held.values()) {
      if (held.extendedAt > due) continue
      held.extendedAt = Date.now()
      this.settler.changeVisibility(held.receiptHandle, this.options.visibilityTimeout)
    }
  }
}

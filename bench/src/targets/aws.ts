import { CreateTopicCommand, PublishBatchCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns'
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ListQueuesCommand,
  type Message,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs'
import { awsTransport } from '@omnibus/adapter-aws'
import { type BenchTarget, type RawClient, type RawMessage, structuredBody } from '../target.js'

const endpoint = process.env.OMNIBUS_AWS_ENDPOINT ?? 'http://127.0.0.1:4566'
const region = process.env.AWS_REGION ?? 'us-east-1'
const credentials = {
  accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
  secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
}
/** The adapter's defaults, so both sides poll, hold and publish alike. */
const WAIT_SECONDS = 2
const VISIBILITY_SECONDS = 30
const PUBLISH_CALLS = 8
/** The adapter runs min(3, ceil(maxInFlight / 4)) receive loops; the bench's maxInFlight is 64. */
const POLLERS = 3
const BATCH = 10
const name = (s: string) => `b-${s.replace(/[^A-Za-z0-9_-]/g, '_')}`.slice(0, 80)

const clientConfig = {
  endpoint,
  region,
  credentials,
  requestHandler: {
    connectionTimeout: 5000,
    requestTimeout: (WAIT_SECONDS + 15) * 1000,
    httpAgent: { keepAlive: true, maxSockets: 256 },
  },
}

/** Runs `work` over the items with at most `limit` calls in flight. */
async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0
  const worker = async () => {
    while (next < items.length) await work(items[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}

/**
 * @aws-sdk SNS + SQS done well, with the adapter's topology: an SNS topic per channel, the group's
 * SQS queue subscribed with raw message delivery. PublishBatch of 10, 8 calls in flight (the
 * adapter's publishConcurrency), each entry's failure checked; 3 long-polling receivers of 10
 * (the adapter's loops for maxInFlight 64), a DeleteMessageBatch after each received batch was handled.
 */
const STRUCTURED_ATTRIBUTES = {
  'content-type': { DataType: 'String', StringValue: 'application/cloudevents+json' },
}

function raw(): RawClient {
  const sns = new SNSClient(clientConfig)
  const sqs = new SQSClient(clientConfig)
  const topics = new Map<string, string>()
  const topicArn = async (channel: string) => {
    let arn = topics.get(channel)
    if (!arn) {
      arn = (await sns.send(new CreateTopicCommand({ Name: name(channel) }))).TopicArn!
      topics.set(channel, arn)
    }
    return arn
  }
  return {
    async connect() {},
    // The group's queue is made by consume(), as the adapter makes it on subscribe: a channel that
    // is only published to has no subscriber on either side (moto fans out inside the publish call).
    async prepare(channel) {
      await topicArn(channel)
    },
    async publish(channel, messages) {
      const TopicArn = await topicArn(channel)
      const batches: RawMessage[][] = []
      for (let i = 0; i < messages.length; i += BATCH) batches.push(messages.slice(i, i + BATCH))
      await inParallel(batches, PUBLISH_CALLS, async (batch) => {
        const result = await sns.send(
          new PublishBatchCommand({
            TopicArn,
            // Structured mode, the adapter's default: the event as JSON, its content type an attribute.
            PublishBatchRequestEntries: batch.map((m, i) => ({
              Id: String(i),
              Message: structuredBody(m).toString('utf8'),
              MessageAttributes: m.attributes ? STRUCTURED_ATTRIBUTES : undefined,
            })),
          }),
        )
        if (result.Failed?.length) throw new Error(`${result.Failed.length} entries not published`)
      })
    },
    async consume(channel, group, onMessage) {
      const TopicArn = await topicArn(channel)
      const QueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: name(`${channel}~${group}`) })))
        .QueueUrl!
      const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }))
      const queueArn = attrs.Attributes!.QueueArn!
      const policy = {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'sns.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Resource: queueArn,
            Condition: { ArnEquals: { 'aws:SourceArn': TopicArn } },
          },
        ],
      }
      await sqs.send(
        new SetQueueAttributesCommand({ QueueUrl, Attributes: { Policy: JSON.stringify(policy) } }),
      )
      await sns.send(
        new SubscribeCommand({
          TopicArn,
          Protocol: 'sqs',
          Endpoint: queueArn,
          Attributes: { RawMessageDelivery: 'true' },
        }),
      )
      let stopped = false
      const deletes = new Set<Promise<unknown>>()
      const settle = (messages: Message[]) => {
        const request = sqs
          .send(
            new DeleteMessageBatchCommand({
              QueueUrl,
              Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
            }),
          )
          .catch(() => undefined) // not deleted: it comes back after the visibility timeout
        deletes.add(request)
        void request.finally(() => deletes.delete(request))
      }
      const poll = async () => {
        while (!stopped) {
          const { Messages = [] } = await sqs.send(
            new ReceiveMessageCommand({
              QueueUrl,
              MaxNumberOfMessages: BATCH,
              WaitTimeSeconds: WAIT_SECONDS,
              VisibilityTimeout: VISIBILITY_SECONDS,
            }),
          )
          for (const m of Messages) onMessage(Buffer.from(m.Body ?? '', 'utf8'))
          if (Messages.length) settle(Messages)
        }
      }
      const pollers = Array.from({ length: POLLERS }, poll)
      return {
        async close() {
          stopped = true
          await Promise.all(pollers)
          await Promise.allSettled([...deletes])
        },
      }
    },
    async close() {
      sns.destroy()
      sqs.destroy()
    },
  }
}

export const aws: BenchTarget = {
  name: 'aws',
  peers: ['mqt'],
  e2eEvents: 500,
  // message-queue-toolkit publishes one message per call, about 100/s through moto here.
  publishEvents: 2000,
  // One event every 50 ms (20/s, under moto's ~46/s end to end), so latency is not moto's queue.
  paced: { events: 300, batch: 1, intervalMs: 50 },
  transport: () => awsTransport({ endpoint, region, credentials }),
  raw,
  async unavailable() {
    const sqs = new SQSClient({
      ...clientConfig,
      requestHandler: { connectionTimeout: 3000, requestTimeout: 3000 },
    })
    try {
      await sqs.send(new ListQueuesCommand({ MaxResults: 1 }))
      return undefined
    } catch (error) {
      return `no SNS/SQS (moto) at ${endpoint}: ${(error as Error).message}`
    } finally {
      sqs.destroy()
    }
  },
}

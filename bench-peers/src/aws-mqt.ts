// message-queue-toolkit on SNS/SQS: its SNS publisher and SNS-SQS consumer (Omnibus's topology: a
// topic per channel, the group's queue subscribed to it). The publisher sends one Publish per
// message (it has no batch publish), 80 in flight: as many messages as Omnibus has in flight (8
// PublishBatch calls of 10). The consumer: 3 sqs-consumer loops (Omnibus's 3 receive loops), 10
// messages per receive, 2 s long polls (the adapter's), delete after the handler resolved.
import { SNSClient } from '@aws-sdk/client-sns'
import { SQSClient } from '@aws-sdk/client-sqs'
import { STSClient } from '@aws-sdk/client-sts'
import { MessageHandlerConfigBuilder } from '@message-queue-toolkit/core'
import {
  AbstractSnsPublisher,
  AbstractSnsSqsConsumer,
  type SNSSQSConsumerDependencies,
  type SNSSQSConsumerOptions,
} from '@message-queue-toolkit/sns'
import { SqsConsumerErrorResolver } from '@message-queue-toolkit/sqs'
import { type Message, message, noObservability } from './mqt.js'
import { inParallel, type Payload, type PeerDriver, silentLogger, unique } from './peer.js'

const endpoint = process.env.OMNIBUS_AWS_ENDPOINT ?? 'http://127.0.0.1:4566'
const config = {
  endpoint,
  region: process.env.AWS_REGION ?? 'us-east-1',
  credentials: {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
  },
}
const PUBLISHES_IN_FLIGHT = 80

class Publisher extends AbstractSnsPublisher<Message> {}
class Consumer extends AbstractSnsSqsConsumer<Message, undefined> {
  constructor(
    dependencies: SNSSQSConsumerDependencies,
    options: SNSSQSConsumerOptions<Message, undefined, undefined>,
  ) {
    super(dependencies, options, undefined)
  }
}

export async function driver(): Promise<PeerDriver> {
  const snsClient = new SNSClient(config)
  const sqsClient = new SQSClient(config)
  const stsClient = new STSClient(config)
  const base = {
    snsClient,
    sqsClient,
    stsClient,
    logger: silentLogger,
    errorReporter: { report: () => undefined },
  }
  const topics = { publish: `b-mqt-publish-${unique()}`, e2e: `b-mqt-e2e-${unique()}` }
  const types = { publish: `bench.publish.${unique()}`, e2e: `bench.e2e.${unique()}` }
  const publisher = (channel: 'publish' | 'e2e') =>
    new Publisher(base, {
      creationConfig: { topic: { Name: topics[channel] } },
      messageSchemas: [message(types[channel])],
      messageTypeResolver: { messageTypePath: 'type' },
    })
  const publishers = { publish: publisher('publish'), e2e: publisher('e2e') }
  await Promise.all([publishers.publish.init(), publishers.e2e.init()])
  let consumer: Consumer | undefined
  return {
    async publish(channel, payloads: Payload[]) {
      const p = publishers[channel]
      const timestamp = new Date().toISOString()
      await inParallel(payloads, PUBLISHES_IN_FLIGHT, async (payload) => {
        await p.publish({ id: crypto.randomUUID(), type: types[channel], timestamp, payload })
      })
    },
    async consume(received) {
      consumer = new Consumer(
        {
          ...base,
          consumerErrorResolver: new SqsConsumerErrorResolver(),
          transactionObservabilityManager: noObservability,
        },
        {
          creationConfig: { topic: { Name: topics.e2e }, queue: { QueueName: `${topics.e2e}-bench` } },
          subscriptionConfig: { updateAttributesIfExists: false },
          deletionConfig: { deleteIfExists: false },
          messageTypeResolver: { messageTypePath: 'type' },
          concurrentConsumersAmount: 3,
          consumerOverrides: { batchSize: 10, waitTimeSeconds: 2 },
          handlers: new MessageHandlerConfigBuilder<Message, undefined>()
            .addConfig(message(types.e2e), async (m) => {
              received(m.payload.sentAt)
              return { result: 'success' }
            })
            .build(),
        },
      )
      await consumer.start()
    },
    async close() {
      await consumer?.close()
      await Promise.all([publishers.publish.close(), publishers.e2e.close()])
      // moto keeps everything in memory; what this side made goes with the next restart.
      snsClient.destroy()
      sqsClient.destroy()
      stsClient.destroy()
    },
  }
}

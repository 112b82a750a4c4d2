import { randomBytes } from 'node:crypto'
import { CreateTopicCommand, SubscribeCommand, UnsubscribeCommand } from '@aws-sdk/client-sns'
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs'
import { expectSealed } from '@omnibus/conformance'
import { type Bus, createBus, type Envelope } from '@omnibus/core'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { awsTransport, resourceName } from '../src/index.js'
import { newSns, newSqs, testOptions, uid, waitFor } from './helpers.js'

// Payload encryption over real SNS/SQS (moto): what a queue subscribed to the topic receives,
// read with the AWS SDK itself, holds no plaintext, and the handler gets the original data.
// (SNS/SQS has one binding, attributes beside the data, so there is no content mode to vary.)
const SECRET = 'card-4111111111111111'
const encryption = { current: 'k1', keys: { k1: randomBytes(32) } }
const sns = newSns()
const sqs = newSqs()
const buses: Bus[] = []
const cleanup: (() => Promise<unknown>)[] = []
afterEach(async () => {
  await Promise.allSettled(buses.splice(0).map((b) => b.stop()))
  await Promise.allSettled(cleanup.splice(0).map((undo) => undo()))
})
afterAll(() => {
  sns.destroy()
  sqs.destroy()
})

async function bus(service: string): Promise<Bus> {
  const b = await createBus({ service, transports: { a: awsTransport(testOptions()) }, encryption })
  buses.push(b)
  return b
}

/** A queue of our own on the channel's topic: a copy of every message, as SNS delivers it. */
async function tap(type: string): Promise<string> {
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: resourceName('', type, false) }))
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: uid('raw-reader') }))
  cleanup.push(() => sqs.send(new DeleteQueueCommand({ QueueUrl })))
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  )
  const { SubscriptionArn } = await sns.send(
    new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: Attributes?.QueueArn }),
  )
  cleanup.push(() => sns.send(new UnsubscribeCommand({ SubscriptionArn })))
  return QueueUrl as string
}

/** Every message in the tap, body and attributes as text. */
async function atRest(queueUrl: string, count: number): Promise<string[]> {
  const seen: string[] = []
  await waitFor(
    'the raw messages',
    async () => {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          MessageAttributeNames: ['All'],
        }),
      )
      for (const m of Messages) {
        const attributes = Object.entries(m.MessageAttributes ?? {}).map(
          ([k, v]) => `${k}=${v.StringValue ?? Buffer.from(v.BinaryValue ?? []).toString('latin1')}`,
        )
        seen.push(`${m.Body}\n${attributes.join('\n')}`)
      }
      return seen.length >= count
    },
    30_000,
  )
  return seen
}

describe('aws: payload encryption', () => {
  it('keeps no plaintext in the queues and hands the handler the original', async () => {
    const type = uid('com.omnibus.test.encrypted')
    const handler = await bus('enc-handler')
    const got: Envelope[] = []
    handler.on(type, async (e) => void got.push(e))
    await handler.start()
    const queueUrl = await tap(type)
    const sender = await bus('enc-sender')
    await sender.publish<unknown>([
      { type, data: { card: SECRET } },
      { type, data: Buffer.from(SECRET) },
    ])
    const messages = await atRest(queueUrl, 2)
    expect(messages).toHaveLength(2)
    expectSealed(messages, SECRET, type)
    await waitFor('both events decrypted', () => got.length === 2, 30_000)
    const data = got.map((e) => (Buffer.isBuffer(e.data) ? e.data.toString() : e.data))
    expect(data).toEqual(expect.arrayContaining([{ card: SECRET }, SECRET]))
  })
})

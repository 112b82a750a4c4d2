import { isUtf8 } from 'node:buffer'
import { CreateTopicCommand, ListSubscriptionsByTopicCommand, PublishCommand } from '@aws-sdk/client-sns'
import { GetQueueUrlCommand, type MessageAttributeValue, SendMessageCommand } from '@aws-sdk/client-sqs'
import { type HostileMessage, hostileScenario, poison, subjectBytes } from '@omnibus/conformance/hostile'
import type { Channel } from '@omnibus/core/adapter'
import { afterAll, test } from 'vitest'
import { awsTransport, BINARY_BODY_ATTRIBUTE, resourceName } from '../src/index.js'
import { newSns, newSqs, testOptions } from './helpers.js'

const sns = newSns()
const sqs = newSqs()
afterAll(() => {
  sns.destroy()
  sqs.destroy()
})

/**
 * Text goes through SNS Publish, as a foreign publisher to the topic would. Bytes
 * (a body or an attribute that is not UTF-8) go through SQS SendMessage into each
 * subscribed queue: SNS bodies are text, and moto's raw delivery mangles Binary attributes.
 */
async function inject(channel: Channel, m: HostileMessage): Promise<void> {
  const attributes: Record<string, MessageAttributeValue> = {}
  const put = (name: string, value: string | Uint8Array) => {
    attributes[name] =
      typeof value === 'string'
        ? { DataType: 'String', StringValue: value }
        : { DataType: 'Binary', BinaryValue: value }
  }
  for (const [name, value] of Object.entries({ ...m.headers })) put(name, value)
  for (const [name, value] of Object.entries(m.attributes ?? {})) put(`ce_${name}`, value)
  if (m.contentType) put('content-type', m.contentType)
  const text = isUtf8(m.body) && Object.values(attributes).every((a) => a.DataType === 'String')
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: resourceName('', channel.name, false) }))
  if (text) {
    await sns.send(
      new PublishCommand({
        TopicArn,
        Message: Buffer.from(m.body).toString('utf8'),
        MessageAttributes: attributes,
      }),
    )
    return
  }
  put(BINARY_BODY_ATTRIBUTE, m.body)
  const { Subscriptions = [] } = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn }))
  for (const s of Subscriptions.filter((s) => s.Protocol === 'sqs')) {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: s.Endpoint!.split(':').pop()! }))
    await sqs.send(
      new SendMessageCommand({
        QueueUrl,
        MessageBody: '(bytes in the body attribute)',
        MessageAttributes: attributes,
      }),
    )
  }
}

test('aws: hostile messages are dead-lettered once, good ones handled, none left cycling', async () => {
  await hostileScenario({
    name: 'aws',
    createTransport: () => awsTransport(testOptions()),
    inject,
    patience: 2,
    // Under SQS's 256 KiB; its dead letter, base64-encoded in JSON, is not.
    extra: () => [subjectBytes('ce_subject'), poison('poison-250kb', 250_000)],
  })
}, 300_000)

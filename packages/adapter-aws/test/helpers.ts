import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { CreateTopicCommand, ListSubscriptionsByTopicCommand, SNSClient } from '@aws-sdk/client-sns'
import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs'
import type { Logger } from '@omnibus/core'
import type { Channel, Delivery } from '@omnibus/core/adapter'
import { type AwsTransportOptions, BINARY_BODY_ATTRIBUTE, resourceName } from '../src/index.js'

/** Loopback moto by default; OMNIBUS_AWS_ENDPOINT points the tests elsewhere. */
export const endpoint = process.env.OMNIBUS_AWS_ENDPOINT ?? 'http://127.0.0.1:4566'
export const region = process.env.AWS_REGION ?? 'us-east-1'
export const credentials = {
  accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
  secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
}

/**
 * publishTimeoutMs 30 s: moto, sharing two cores with other brokers, takes hundreds of ms per
 * batch call under load, and a burst of publishes queues behind the batch calls in flight.
 */
export function testOptions(extra: AwsTransportOptions = {}): AwsTransportOptions {
  return { endpoint, region, credentials, waitTimeSeconds: 1, publishTimeoutMs: 30_000, ...extra }
}

export const sdkConfig = { endpoint, region, credentials }
export const newSns = () => new SNSClient(sdkConfig)
export const newSqs = () => new SQSClient(sdkConfig)

export const uid = (label: string) => `${label}-${randomUUID().slice(0, 8)}`

export { waitFor } from '@omnibus/conformance'

/** A handler that collects what it gets. */
export function collector() {
  const got: Delivery[] = []
  return { got, handler: async (d: Delivery) => void got.push(d) }
}

/** A logger that keeps records, to assert on what the transport reported. */
export function memoryLogger() {
  const records: { level: string; message: string; fields?: Record<string, unknown> }[] = []
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    void records.push(fields ? { level, message, fields } : { level, message })
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
  return { records, logger }
}

/** The repository's broker script (resolved from this file, so it works in any checkout). */
export const brokersScript = fileURLToPath(new URL('../../../scripts/brokers', import.meta.url))

/** Restarts moto through the project's broker script; resolves once it answers again. */
export async function restartBroker(): Promise<void> {
  await promisify(execFile)('bash', [brokersScript, 'restart', 'aws'], { timeout: 180_000 })
}

/**
 * Puts raw bytes on a channel as a foreign producer would, with the AWS SDK. SNS/SQS bodies
 * are text, so the bytes travel in the Binary `body` attribute the binding reads (the suite's
 * bytes hold NUL and invalid UTF-8, which no body can carry). On a topic they go into every
 * queue subscribed to it: moto's SNS raw delivery stores a Binary attribute as a string, and
 * its ReceiveMessage then fails on that message for good (MD5 of a str), so SNS cannot carry them.
 */
export async function injectRaw(channel: Channel, body: Uint8Array, prefix = ''): Promise<void> {
  const attributes = { [BINARY_BODY_ATTRIBUTE]: { DataType: 'Binary', BinaryValue: body } }
  const placeholder = '(binary payload in the body attribute)'
  const sns = newSns()
  const sqs = newSqs()
  try {
    let queueNames = [resourceName(prefix, channel.name, false)]
    if (channel.kind === 'topic') {
      // CreateTopic returns the existing topic's ARN (the suite's groups made it already).
      const { TopicArn } = await sns.send(
        new CreateTopicCommand({ Name: resourceName(prefix, channel.name, false) }),
      )
      const { Subscriptions = [] } = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn }))
      queueNames = Subscriptions.filter((s) => s.Protocol === 'sqs').map((s) => s.Endpoint!.split(':').pop()!)
    }
    for (const QueueName of queueNames) {
      const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName }))
      await sqs.send(
        new SendMessageCommand({ QueueUrl, MessageBody: placeholder, MessageAttributes: attributes }),
      )
    }
  } finally {
    sns.destroy()
    sqs.destroy()
  }
}

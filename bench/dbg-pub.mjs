// temp: publish round trip, Omnibus transport vs raw PublishBatch, same topic topology, alternating
import { awsTransport } from '@omnibus/adapter-aws'
import { createEvent } from '@omnibus/core'
import { SNSClient, PublishBatchCommand, CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns'
import { SQSClient, CreateQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs'
const cfg = { endpoint: 'http://127.0.0.1:4566', region: 'us-east-1', credentials: { accessKeyId: 't', secretAccessKey: 't' }, requestHandler: { httpAgent: { keepAlive: true, maxSockets: 256 } } }
const t = awsTransport({ endpoint: cfg.endpoint, region: cfg.region, credentials: cfg.credentials })
await t.connect?.()
const ch = { name: 'dbgpub' + Date.now(), kind: 'topic' }
const sns = new SNSClient(cfg), sqs = new SQSClient(cfg)
const sub = await t.subscribe(ch, 'g', async () => {}, { maxInFlight: 64 })
const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'dbgraw' + Date.now() }))
const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'dbgraw' + Date.now() }))
const a = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }))
await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: a.Attributes.QueueArn, Attributes: { RawMessageDelivery: 'true' } }))
const pad = 'x'.repeat(960)
import { ReceiveMessageCommand, DeleteMessageBatchCommand } from '@aws-sdk/client-sqs'
let stop = false
const pollers = []
async function poll() { while (!stop) { const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2, VisibilityTimeout: 30 })); if (Messages.length) await sqs.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })) })) } }
async function phase(label, n) {
const om = [], raw = []
for (let i = 0; i < n; i++) {
  let s = performance.now()
  await t.publish(ch, createEvent({ type: 'x.y', source: 'urn:b', data: { sentAt: Date.now(), pad } }))
  om.push(performance.now() - s)
  const ev = createEvent({ type: 'x.y', source: 'urn:b', data: { sentAt: Date.now(), pad } })
  s = performance.now()
  await sns.send(new PublishBatchCommand({ TopicArn, PublishBatchRequestEntries: [{ Id: '0', Message: JSON.stringify(ev), MessageAttributes: { 'content-type': { DataType: 'String', StringValue: 'application/cloudevents+json' } } }] }))
  raw.push(performance.now() - s)
  await new Promise(r => setTimeout(r, 20))
}
const med = (xs) => xs.sort((a, b) => a - b)[xs.length >> 1]
console.log(label, 'omnibus publish p50', med(om).toFixed(2), 'raw p50', med(raw).toFixed(2))
}
await phase('omnibus consumer only:', 150)
for (let i = 0; i < 3; i++) pollers.push(poll())
await phase('consumers on both (raw pollers running):', 150)
stop = true
await sub.close()
await Promise.all(pollers)
await phase('no consumers:', 150); await t.close?.(); sns.destroy(); sqs.destroy()
process.exit(0)

/**
 * The attribute and metric names used, copied (as the OpenTelemetry JS project
 * recommends for incubating conventions) from Semantic Conventions 1.39.0,
 * messaging spans and metrics (status: Development). Pinned: a later version may rename.
 */
export const SEMCONV_VERSION = '1.39.0'

export const A = {
  system: 'messaging.system',
  operationName: 'messaging.operation.name',
  operationType: 'messaging.operation.type',
  destination: 'messaging.destination.name',
  temporary: 'messaging.destination.temporary',
  group: 'messaging.consumer.group.name',
  messageId: 'messaging.message.id',
  conversationId: 'messaging.message.conversation_id',
  batchCount: 'messaging.batch.message_count',
  errorType: 'error.type',
  ceId: 'cloudevents.event_id',
  ceSource: 'cloudevents.event_source',
  ceType: 'cloudevents.event_type',
  ceSubject: 'cloudevents.event_subject',
  ceSpecVersion: 'cloudevents.event_spec_version',
  // Ours, under our own namespace: the config name of the transport, the message kind, the outcome.
  transport: 'omnibus.transport',
  kind: 'omnibus.message.kind',
  deliveryCount: 'omnibus.delivery_count',
  outcome: 'omnibus.outcome',
  principal: 'omnibus.principal',
} as const

export const M = {
  sent: 'messaging.client.sent.messages',
  consumed: 'messaging.client.consumed.messages',
  operationDuration: 'messaging.client.operation.duration',
  processDuration: 'messaging.process.duration',
  retries: 'omnibus.consumer.retries',
  deadLetters: 'omnibus.consumer.dead_letters',
  malformed: 'omnibus.consumer.malformed',
  backlog: 'omnibus.consumer.backlog',
  authorizations: 'omnibus.authorizations',
} as const

/** `messaging.system` per adapter; SNS for what is sent to a topic, SQS for queues and for what is received. */
export function systemOf(adapter: string, topic: boolean, receiving: boolean): string {
  switch (adapter) {
    case 'kafka':
    case 'rabbitmq':
      return adapter
    case 'aws':
      return topic && !receiving ? 'aws.sns' : 'aws_sqs'
    case 'gcp':
      return 'gcp_pubsub'
    case 'memory':
      return 'omnibus_memory'
    default:
      return adapter
  }
}

import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs'

/**
 * A group queue's backlog: `ApproximateNumberOfMessages` (waiting) plus
 * `ApproximateNumberOfMessagesNotVisible` (received, not yet deleted). SQS says
 * these are approximate; they settle within about a minute on AWS.
 */
export async function sqsBacklog(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  )
  return (
    Number(Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  )
}

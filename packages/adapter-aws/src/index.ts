/** @omnibus/adapter-aws: the Omnibus transport for AWS SNS + SQS. */
export {
  type AttributeValue,
  BINARY_BODY_ATTRIBUTE,
  BINARY_PREFIXES,
  decodeSqsMessage,
  encodeEvent,
  MAX_MESSAGE_BYTES,
} from './aws-binding.js'
export { type AwsConfig, type AwsTransportOptions, parseAwsConfig } from './aws-config.js'
export { groupQueueName, resourceName } from './aws-names.js'
export { AWS, AwsTransport, adapter, awsTransport } from './aws-transport.js'

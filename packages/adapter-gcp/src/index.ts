/** @omnibus/adapter-gcp: the Omnibus transport for Google Cloud Pub/Sub. */
export { ATTRIBUTE_PREFIX, fromPubSubMessage, LIMITS, toPubSubMessage } from './gcp-binding.js'
export type { GcpTransportOptions } from './gcp-config.js'
export { resourceName } from './gcp-provisioner.js'
export { adapter, GCP, GcpTransport, gcpTransport } from './gcp-transport.js'

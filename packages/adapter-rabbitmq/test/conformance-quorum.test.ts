import { rabbitmqConformance } from './helpers.js'

// The whole suite with every durable queue a quorum queue (`npm run conformance -- rabbitmq-quorum`).
rabbitmqConformance('rabbitmq-quorum', { quorum: true })

import { conformance } from '@omnibus/conformance'
import { BROKER_NAME, injectRaw, restartKafka, transport } from './helpers.js'

// The same suite on the second driver (@platformatic/kafka); raw records still come from kafkajs.
conformance({
  name: `${BROKER_NAME}-platformatic`,
  createTransport: () => transport({ driver: 'platformatic' }),
  injectRaw,
  restartBroker: restartKafka,
})

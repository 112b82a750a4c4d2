import { conformance } from '@omnibus/conformance'
import { BROKER_NAME, injectRaw, restartKafka, transport } from './helpers.js'

conformance({ name: BROKER_NAME, createTransport: () => transport(), injectRaw, restartBroker: restartKafka })

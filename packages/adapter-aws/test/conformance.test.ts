import { conformance } from '@omnibus/conformance'
import { awsTransport } from '../src/index.js'
import { injectRaw, restartBroker, testOptions } from './helpers.js'

/**
 * moto's cost of every SQS message it takes in grows with the depth of the queue it lands in
 * (each send recomputes the queue's approximate counts over all its messages), so the suite
 * runs with two batch calls in flight in the whole process (the 20 publishing buses of case 3
 * share them), which keeps queues shallow, and with more patience than a real broker needs.
 *
 * FIFO only where it differs: the per-key order case's channels (`com.omnibus.test.order.*`)
 * use FIFO topics and queues, everything else standard ones. A FIFO channel deduplicates by
 * event id, which case 16 (the same event published twice must arrive twice) rules out for
 * all channels. Short polling: moto's long poll checks FIFO group locks against a snapshot
 * taken when the call began, so it would sit on messages whose group was freed meanwhile.
 */
const options = testOptions({
  fifo: (channel) => channel.startsWith('com.omnibus.test.order.'),
  waitTimeSeconds: 0,
  publishConcurrency: 2,
})

conformance({
  name: 'aws',
  createTransport: () => awsTransport(options),
  injectRaw: (channel, body) => injectRaw(channel, body),
  restartBroker,
  patience: 3,
  // The same square law makes the two longest streams the slowest cases of the whole CI on a
  // busy machine (case 13 took 15 min, case 12 ran past a 30 s publish deadline): 2,000 and
  // 3,000 events still churn six consumers and restart moto a quarter of the way in.
  sizes: { churn: 2000, restart: 3000 },
})

import { MemoryBroker, memoryTransport } from '@omnibus/core'
import { conformance } from '../src/index.js'

// The suite tests itself against the in-memory transport; one broker shared by the buses of a run.
// Every message goes through the structured binding the broker adapters use, as bytes.
const broker = new MemoryBroker()

conformance({
  name: 'memory',
  createTransport: () => memoryTransport({ broker }),
  injectRaw: async (channel, body) => broker.inject(channel, body),
})

import { randomBytes } from 'node:crypto'
import { MemoryBroker, memoryTransport } from '@omnibus/core'
import { secureTransport } from '@omnibus/core/security'
import { conformance } from '../src/index.js'

// The whole suite again with payload encryption and a tenant (prefixed channels) around the
// in-memory transport: neither may change what a transport promises.
const broker = new MemoryBroker()
const keys = { current: 'k1', keys: { k1: randomBytes(32) } }

conformance({
  name: 'memory-secured',
  createTransport: () => secureTransport(memoryTransport({ broker }), { encryption: keys, tenant: 'acme' }),
  injectRaw: async (channel, body) => broker.inject({ ...channel, name: `acme.${channel.name}` }, body),
})

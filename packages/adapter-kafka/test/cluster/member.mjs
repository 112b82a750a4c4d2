// One member of a consumer group in a process of its own, so that a test can SIGKILL it
// (group-kill.test.ts). Runs the built adapter (dist/): node member.mjs <channel> <group> <file>.
// Brokers from OMNIBUS_KAFKA_BROKERS. Prints `ready` once subscribed, and appends one line per
// handled delivery to <file>, `D <id> <key> <seq>`, with a synchronous write before the handler
// returns: a child's stdout pipe is written asynchronously, and a SIGKILL drops what it still
// holds, while a write to a file is in the kernel once writeSync returns. SIGTERM closes cleanly.
import { openSync, writeSync } from 'node:fs'
import { consoleLogger } from '@omnibus/core'
import { kafkaTransport } from '../../dist/index.js'

const [name, group, file] = process.argv.slice(2)
const out = openSync(file, 'a')
const level = process.env.OMNIBUS_TEST_LOG
const transport = kafkaTransport(
  {
    brokers: process.env.OMNIBUS_KAFKA_BROKERS ?? '127.0.0.1:19092',
    sessionTimeout: 6_000,
    ...(process.env.OMNIBUS_KAFKA_DRIVER ? { driver: process.env.OMNIBUS_KAFKA_DRIVER } : {}),
  },
  { key: 'transports.member', service: 'cluster-member', ...(level ? { logger: consoleLogger(level) } : {}) },
)
await transport.connect()
const subscription = await transport.subscribe(
  { name, kind: 'topic' },
  group,
  async (d) => {
    writeSync(out, `D ${d.event.id} ${d.event.partitionkey} ${d.event.data.seq}\n`)
  },
  { maxInFlight: 64 },
)
process.stdout.write('ready\n')
process.once('SIGTERM', async () => {
  await subscription.close()
  await transport.close()
  process.exit(0)
})

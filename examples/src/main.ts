import { configFromEnv } from '@omnibus/core'
import { runOrderFlow } from './order-flow.js'

// `npm run example` runs on the in-memory transport; OMNIBUS_CONFIG=examples/config/<broker>.json
// (or OMNIBUS_TRANSPORTS__… variables) runs the same code on a real broker.
const fromEnv = configFromEnv()
const config = fromEnv ?? { transports: { main: { adapter: 'memory' } } }
const adapters = Object.values(config.transports as Record<string, { adapter?: string }>).map(
  (t) => t.adapter,
)
console.log(
  `order flow on ${adapters.join(' + ')}${fromEnv ? '' : ' (default; set OMNIBUS_CONFIG to use a broker)'}\n`,
)

const summary = await runOrderFlow({ config: config as never, say: (line) => console.log(line) })
console.log('')
console.log(`orders placed:       ${summary.placed}`)
console.log(`stock reserved:      ${summary.reserved}`)
console.log(`notifications sent:  ${summary.notified} (${summary.caughtUp} caught up after the downtime)`)
console.log(`missing:             ${summary.missing.length === 0 ? 'nothing' : summary.missing.join('; ')}`)
process.exit(summary.missing.length === 0 ? 0 : 1)

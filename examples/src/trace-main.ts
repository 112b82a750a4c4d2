import { configFromEnv } from '@omnibus/core'
import { tracedOrderFlow, traceTree } from './trace.js'

// `npm run example -- --trace`: the order flow with OpenTelemetry, then one order's trace as a tree.
const config = configFromEnv() ?? { transports: { main: { adapter: 'memory' } } }
const shown = 2
const { summary, traceId, spans } = await tracedOrderFlow(config as never, shown).catch((error: unknown) => {
  console.error(`the order flow could not run: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
})
console.log(`order-${shown}, as traced across ${summary.placed} orders:\n`)
for (const line of traceTree(traceId, spans)) console.log(line)
process.exit(summary.missing.length === 0 ? 0 : 1)

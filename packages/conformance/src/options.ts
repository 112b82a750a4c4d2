import type { Capabilities, Channel, Transport } from '@omnibus/core/adapter'
import type { Sizes } from './harness.js'

/** What a transport's test file gives the suite. */
export interface ConformanceOptions {
  /** The transport's name, as in the report line (`conformance kafka: …`). */
  name: string
  /** A fresh transport, connected to the broker under test; called once per bus the suite makes. */
  createTransport: () => Transport
  /** Defaults to the capabilities of a transport from `createTransport`. */
  capabilities?: Capabilities
  /**
   * Puts raw bytes (not a CloudEvent) on `channel` with the broker's own client,
   * as a foreign producer would, such that the existing `group` receives them (case 9).
   */
  injectRaw(channel: Channel, body: Uint8Array): Promise<void>
  /** Restarts the broker process (case 13), e.g. `npm run brokers -- restart kafka`. Absent: the case is skipped. */
  restartBroker?: () => Promise<void>
  /** `full` (CONFORMANCE.md's counts; CI) or `quick`. Default: OMNIBUS_CONFORMANCE_SIZE, else `full`. */
  size?: 'full' | 'quick'
  /**
   * Overrides of single counts of the chosen size, for a broker whose cost per message grows with
   * what it holds (an emulator), so the case still tests what it names in a bounded time. Say why.
   */
  sizes?: Partial<Sizes>
  /** Multiplies every wait deadline, for slow brokers or emulators. Default 1. */
  patience?: number
}

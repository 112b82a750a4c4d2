/** The 1 KiB payload every side sends: when it was sent, and padding. */
export interface Payload {
  sentAt: number
  pad: string
}

/**
 * One peer's side of a round, driven by bench/src/worker.ts exactly as it drives the Omnibus
 * and raw sides: publish to the publish-only channel or the consumed one (resolving once the
 * peer says the broker has the messages), consume the e2e channel, close.
 */
export interface PeerDriver {
  publish(channel: 'publish' | 'e2e', payloads: Payload[]): Promise<void>
  consume(received: (sentAt: number) => void): Promise<void>
  close(): Promise<void>
}

export const unique = () => Math.random().toString(36).slice(2, 10)

/** Consumers in every peer get the same number of messages in flight as Omnibus's maxInFlight. */
export const IN_FLIGHT = 64

/** The peers log through a pino-like logger; the bench prints only its figures. */
const quiet = () => undefined
export const silentLogger = {
  level: 'silent',
  msgPrefix: '',
  trace: quiet,
  debug: quiet,
  info: quiet,
  warn: quiet,
  error: quiet,
  fatal: quiet,
  silent: quiet,
  isLevelEnabled: () => false,
  child: () => silentLogger,
}

/** Runs `work` over the items with at most `limit` calls in flight. */
export async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0
  const worker = async () => {
    while (next < items.length) await work(items[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}

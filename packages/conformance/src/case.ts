import type { Harness } from './harness.js'

/** One CONFORMANCE.md case. `skip` returns the reason when the transport's capabilities rule it out. */
export interface Case {
  readonly id: number
  readonly name: string
  readonly timeoutMs: number
  skip?(h: Harness): string | undefined
  run(h: Harness): Promise<void>
}

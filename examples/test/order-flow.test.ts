import { describe, expect, it } from 'vitest'
import { runOrderFlow } from '../src/order-flow.js'

describe('the order-flow example on the memory transport', () => {
  it('reserves and confirms every order, catching up after the notification downtime', async () => {
    const lines: string[] = []
    const summary = await runOrderFlow({
      config: { transports: { main: { adapter: 'memory' } } },
      orders: 12,
      downtime: [3, 9],
      say: (line) => lines.push(line),
      timeoutMs: 10_000,
    })
    expect(summary).toEqual({ placed: 12, reserved: 12, notified: 12, caughtUp: 6, missing: [] })
    expect(lines.some((l) => l.includes('service stopped'))).toBe(true)
    expect(lines.filter((l) => l.includes('caught up after downtime'))).toHaveLength(6)
    const back = lines.findIndex((l) => l.includes('service back; catching up'))
    expect(back).toBeGreaterThan(-1)
    expect(lines.findIndex((l) => l.includes('caught up after downtime'))).toBeGreaterThan(back)
  })
})

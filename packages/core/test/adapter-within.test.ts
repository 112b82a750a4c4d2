import { describe, expect, it } from 'vitest'
import { within } from '../src/adapter/index.js'

describe('adapter toolkit: within', () => {
  it('is true when the task finishes in time, false when the wait is given up (the task goes on)', async () => {
    expect(await within(1_000, Promise.resolve())).toBe(true)
    let finished = false
    const slow = new Promise<void>((resolve) => setTimeout(resolve, 50)).then(() => {
      finished = true
    })
    expect(await within(5, slow)).toBe(false)
    expect(finished).toBe(false)
    await slow
    expect(finished).toBe(true)
  })

  it("passes the task's failure on", async () => {
    await expect(within(1_000, Promise.reject(new Error('broken')))).rejects.toThrow('broken')
  })
})

import { EventEmitter } from 'node:events'
import { describe, expect, it } from 'vitest'
import { Backpressure } from '../src/adapter/index.js'

/** Whether `promise` settled within a few turns of the event loop. */
async function settles(promise: Promise<unknown>): Promise<boolean> {
  let done = false
  void promise.then(() => {
    done = true
  })
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve))
  return done
}

describe('adapter toolkit: Backpressure', () => {
  it('lets senders through while there is room, and holds them after a full send until drain', async () => {
    const stream = new EventEmitter()
    const buffer = new Backpressure(stream)
    const never = new AbortController().signal
    buffer.sent(true)
    expect(await settles(buffer.room(never))).toBe(true)
    expect(buffer.full).toBe(false)
    buffer.sent(false)
    expect(buffer.full).toBe(true)
    const waiting = buffer.room(never)
    expect(await settles(waiting)).toBe(false)
    stream.emit('drain')
    expect(await settles(waiting)).toBe(true)
    expect(await settles(buffer.room(never))).toBe(true) // room again after the drain
    expect(stream.listenerCount('drain')).toBe(1) // the waits left no listener behind
  })

  it("ends the wait on the stream's close, or when the sender's signal aborts", async () => {
    const stream = new EventEmitter()
    const buffer = new Backpressure(stream)
    buffer.sent(false)
    const stop = new AbortController()
    const aborted = buffer.room(stop.signal)
    stop.abort()
    expect(await settles(aborted)).toBe(true)
    const closing = buffer.room(new AbortController().signal)
    expect(await settles(closing)).toBe(false)
    stream.emit('close')
    expect(await settles(closing)).toBe(true)
    expect(stream.listenerCount('close')).toBe(1)
  })
})

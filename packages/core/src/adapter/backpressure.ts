import { type EventEmitter, once } from 'node:events'

/**
 * The write buffer of a client built on a Node stream (amqplib's channels): a send that returns
 * false has filled it, and every sender then waits for the emitter's 'drain' before its next send,
 * so that a burst of publishes does not pile up in memory. 'close' ends the wait too (what was
 * buffered is gone with the stream; the senders learn it from their own answers).
 */
export class Backpressure {
  private filled = false

  constructor(private readonly emitter: EventEmitter) {
    emitter.setMaxListeners(0) // every sender waiting for 'drain' listens
    const room = () => {
      this.filled = false
    }
    emitter.on('drain', room)
    emitter.on('close', room)
  }

  /** Whether senders must wait (check it before `room()` to spare a hot loop an await). */
  get full(): boolean {
    return this.filled
  }

  /** After a send: `ok` is what it returned (false: the buffer is full). */
  sent(ok: boolean): void {
    if (!ok) this.filled = true
  }

  /** Resolves at once while there is room, else on 'drain' or 'close', or when `signal` aborts. */
  async room(signal: AbortSignal): Promise<void> {
    if (!this.filled) return
    const done = new AbortController()
    const either = { signal: AbortSignal.any([signal, done.signal]) }
    await Promise.race([once(this.emitter, 'drain', either), once(this.emitter, 'close', either)]).catch(
      () => undefined,
    )
    done.abort() // the other wait's listener goes too
  }
}

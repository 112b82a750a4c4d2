import { describe, expect, it } from 'vitest'
import { CumulativeAcks } from '../src/adapter/index.js'

/** A CumulativeAcks over plain numbers, recording what it sent. */
function recorded() {
  const sent: string[] = []
  const acks = new CumulativeAcks<number>({
    tagOf: (n) => n,
    ackUpTo: (n) => void sent.push(`upTo ${n}`),
    ack: (n) => void sent.push(`ack ${n}`),
    reject: (n) => void sent.push(`reject ${n}`),
  })
  return { sent, acks }
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('adapter toolkit: CumulativeAcks', () => {
  it('acknowledges what settled in one turn with one cumulative ack on the highest', async () => {
    const { sent, acks } = recorded()
    for (const n of [1, 2, 3]) acks.add(n)
    acks.ok(2)
    acks.ok(1)
    acks.ok(3)
    expect(sent).toEqual([]) // not before the turn ends
    await nextTurn()
    expect(sent).toEqual(['upTo 3'])
  })

  it('never covers a delivery still in its handler: those above it are acknowledged alone', async () => {
    const { sent, acks } = recorded()
    for (const n of [1, 2, 3, 4]) acks.add(n)
    acks.ok(1)
    acks.ok(3)
    acks.ok(4)
    await nextTurn()
    expect(sent).toEqual(['upTo 1', 'ack 3', 'ack 4'])
    acks.ok(2)
    await nextTurn()
    expect(sent.slice(3)).toEqual(['upTo 2'])
  })

  it('gives a rejected delivery back at once, and it no longer holds the others back', async () => {
    const { sent, acks } = recorded()
    for (const n of [1, 2]) acks.add(n)
    acks.reject(1)
    expect(sent).toEqual(['reject 1'])
    acks.ok(2)
    await nextTurn()
    expect(sent).toEqual(['reject 1', 'upTo 2'])
  })

  it('flush() sends at once; after stop() nothing is sent, and a throwing client is survived', async () => {
    const { sent, acks } = recorded()
    acks.add(1)
    acks.ok(1)
    acks.flush()
    expect(sent).toEqual(['upTo 1'])
    const throwing = new CumulativeAcks<number>({
      tagOf: (n) => n,
      ackUpTo: () => {
        throw new Error('channel closed')
      },
      ack: () => undefined,
      reject: () => undefined,
    })
    throwing.add(1)
    throwing.ok(1)
    expect(() => throwing.flush()).not.toThrow()
    acks.stop()
    expect(acks.stopped).toBe(true)
    acks.add(2)
    acks.ok(2)
    acks.reject(2)
    await nextTurn()
    expect(sent).toEqual(['upTo 1'])
  })
})

import { describe, expect, it } from 'vitest'
import { createEvent } from '../src/adapter/index.js'
import { type Bus, createBus, EnvelopeError, memoryTransport } from '../src/index.js'

/*
 * The lines marked @ts-expect-error are the compile-time half of this test: the
 * lint step (tsc over test/) fails if a misspelt field ever compiles again.
 */
describe('a misspelt field of a message', () => {
  it('fails to compile, and is refused at run time with the nearest name', async () => {
    const bus: Bus = await createBus({ service: 's', transports: { m: memoryTransport() } })
    const sent = [
      // @ts-expect-error correlationId is not a field: correlationid is
      () => bus.publish({ type: 'com.acme.t', correlationId: 'c' }),
      // @ts-expect-error the same inside a batch
      () => bus.send([{ type: 'com.acme.t', partitionKey: 'k' }]),
      // @ts-expect-error and in a query
      () => bus.query({ type: 'com.acme.t', datacontentype: 'text/plain' }),
    ]
    const fields = []
    for (const send of sent) {
      const error = await send().catch((e: unknown) => e)
      expect(error).toBeInstanceOf(EnvelopeError)
      fields.push((error as EnvelopeError).field)
    }
    expect(fields).toEqual(['correlationId', 'partitionKey', 'datacontentype'])
    // A whole envelope, typed as one, still goes through.
    await bus.publish(createEvent({ type: 'com.acme.t', source: 'urn:x' }))
    await bus.stop()
  })
})

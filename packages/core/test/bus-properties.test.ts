import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type Bus,
  type BusConfig,
  createBus,
  MemoryBroker,
  memoryTransport,
  OmnibusError,
} from '../src/index.js'

/** What a call did within `ms`: its outcome, or 'pending'. */
async function settle(
  call: () => unknown,
  ms = 1000,
): Promise<{ ok: true } | { error: unknown } | 'pending'> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const pending = new Promise<'pending'>((resolve) => {
    timer = setTimeout(() => resolve('pending'), ms)
  })
  try {
    return await Promise.race([
      Promise.resolve()
        .then(call)
        .then(
          () => ({ ok: true as const }),
          (error: unknown) => ({ error }),
        ),
      pending,
    ])
  } finally {
    clearTimeout(timer)
  }
}

const onlyOmnibusErrors = (outcome: Awaited<ReturnType<typeof settle>>) => {
  if (outcome === 'pending' || 'ok' in outcome) return
  expect(outcome.error, String(outcome.error)).toBeInstanceOf(OmnibusError)
}

/** Inputs shaped like messages (sometimes) and like anything else (often). */
const message = fc.oneof(
  fc.anything(),
  fc.record(
    {
      type: fc.oneof(fc.string(), fc.anything()),
      id: fc.anything(),
      source: fc.anything(),
      time: fc.oneof(fc.date({ noInvalidDate: false }), fc.string(), fc.anything()),
      data: fc.anything(),
      partitionkey: fc.anything(),
      extensions: fc.oneof(fc.dictionary(fc.string(), fc.anything()), fc.anything()),
    },
    { requiredKeys: [] },
  ),
)

describe('the bus under arbitrary input: only OmnibusErrors escape, never a hang', () => {
  let bus: Bus
  beforeAll(async () => {
    bus = await createBus({
      service: 'props',
      transports: { m: memoryTransport({ broker: new MemoryBroker() }) },
      delivery: { queryTimeoutMs: 50 },
    })
    await bus.start()
  })
  afterAll(() => bus.stop())

  it('publish and send', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(message, fc.array(message, { maxLength: 3 })), async (input) => {
        for (const call of [() => bus.publish(input as never), () => bus.send(input as never)]) {
          const outcome = await settle(call)
          expect(outcome).not.toBe('pending')
          onlyOmnibusErrors(outcome)
        }
      }),
      { numRuns: 300 },
    )
  })

  it('query', async () => {
    const options = fc.oneof(
      fc.anything(),
      fc.record({ timeoutMs: fc.oneof(fc.double(), fc.integer(), fc.anything()) }),
    )
    await fc.assert(
      fc.asyncProperty(message, options, async (input, opts) => {
        const outcome = await settle(() => bus.query(input as never, opts as never), 500)
        // Only a valid wait longer than the check may still be waiting.
        const waits = (opts as { timeoutMs?: unknown } | null)?.timeoutMs
        if (outcome === 'pending') expect(typeof waits === 'number' && waits > 400).toBe(true)
        onlyOmnibusErrors(outcome)
      }),
      { numRuns: 200 },
    )
  })

  it('on, handle, answer, onDeadLetter and use', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('on', 'handle', 'answer', 'onDeadLetter', 'use'),
        fc.oneof(fc.string(), fc.anything()),
        fc.oneof(
          fc.constant(async () => {}),
          fc.anything(),
        ),
        fc.oneof(
          fc.anything(),
          fc.record(
            {
              group: fc.anything(),
              maxInFlight: fc.anything(),
              from: fc.anything(),
              timeoutMs: fc.anything(),
            },
            { requiredKeys: [] },
          ),
        ),
        async (method, first, handler, options) => {
          const fresh = await createBus({
            service: 'p',
            transports: { m: memoryTransport({ broker: new MemoryBroker() }) },
          })
          const args = method === 'use' ? [first] : [first, handler, options]
          const outcome = await settle(() => (fresh[method] as (...a: unknown[]) => unknown)(...args))
          onlyOmnibusErrors(outcome)
          await fresh.stop()
        },
      ),
      { numRuns: 300 },
    )
  })
})

describe('createBus under arbitrary config', () => {
  const key = fc.constantFrom(
    'service',
    'source',
    'transports',
    'routes',
    'defaultTransport',
    'delivery',
    'logger',
    'servce',
  )
  const transports = fc.dictionary(
    fc.string({ minLength: 1, maxLength: 6 }),
    fc.oneof(
      fc.anything(),
      fc.record(
        {
          adapter: fc.oneof(fc.constant('memory'), fc.anything()),
          maxMessageBytes: fc.anything(),
          retainMessages: fc.anything(),
        },
        { requiredKeys: ['adapter'] },
      ),
    ),
  )
  const config = fc.oneof(
    fc.anything(),
    fc.dictionary(key, fc.anything()),
    fc.record(
      {
        service: fc.oneof(fc.constant('svc'), fc.anything()),
        transports,
        routes: fc.oneof(
          fc.anything(),
          fc.array(
            fc.dictionary(fc.constantFrom('match', 'kind', 'transport', 'channel', 'x'), fc.anything()),
          ),
        ),
        defaultTransport: fc.anything(),
        delivery: fc.oneof(
          fc.anything(),
          fc.dictionary(
            fc.constantFrom(
              'maxAttempts',
              'queryTimeoutMs',
              'stopTimeoutMs',
              'maxInFlight',
              'maxDeliveries',
              'initialDelayMs',
            ),
            fc.oneof(fc.double(), fc.integer(), fc.anything()),
          ),
        ),
      },
      { requiredKeys: [] },
    ),
  )

  it('resolves to a bus or rejects with an OmnibusError', async () => {
    await fc.assert(
      fc.asyncProperty(config, async (c) => {
        const outcome = await settle(() => createBus(c as BusConfig))
        expect(outcome).not.toBe('pending')
        onlyOmnibusErrors(outcome)
      }),
      { numRuns: 500 },
    )
  })
})

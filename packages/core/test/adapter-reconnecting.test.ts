import { describe, expect, it, vi } from 'vitest'
import { OmnibusError, Reconnecting, type ReconnectingOptions } from '../src/adapter/index.js'
import type { Logger } from '../src/index.js'
import { waitFor } from './helpers.js'

interface Resource {
  readonly n: number
  closed: boolean
}

/** A Reconnecting over numbered resources whose `open` fails while `down` is set, with its log lines. */
function harness(over: Partial<ReconnectingOptions<Resource>> = {}) {
  const lines: string[] = []
  const log =
    (level: string): Logger['info'] =>
    (message, fields) =>
      lines.push(`${level} ${message} ${JSON.stringify(fields)}`)
  const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') }
  const state = { opened: 0, down: false }
  const r = new Reconnecting<Resource>({
    open: async () => {
      if (state.down) throw new Error('refused')
      return { n: ++state.opened, closed: false }
    },
    close: async (resource) => {
      resource.closed = true
    },
    minMs: 20,
    maxMs: 40,
    logger,
    say: { lost: 'lost it', retry: 'not yet', back: 'back' },
    fields: { where: 'here' },
    adapter: 'test',
    ...over,
  })
  return { r, state, lines }
}

describe('Reconnecting', () => {
  it('opens again after a loss, logs the outage once and its end with outageMs, then wakes ready()', async () => {
    const { r, state, lines } = harness()
    const first = await r.start()
    state.down = true
    r.lost(first, 'peer closed')
    expect(first.closed).toBe(true)
    expect(r.current).toBeUndefined()
    const waiting = r.ready(AbortSignal.timeout(5_000))
    const attempts = () => lines.filter((l) => l.startsWith('debug not yet')).length
    await waitFor('two failed attempts', () => attempts() >= 2, 5_000)
    state.down = false
    const next = await waiting
    expect(next.n).toBe(2)
    expect(lines.filter((l) => l.startsWith('warn'))).toEqual([
      'warn lost it {"where":"here","reason":"peer closed"}',
    ])
    expect(lines.filter((l) => l.startsWith('debug lost')).length).toBe(0)
    expect(lines.filter((l) => l.startsWith('debug not yet')).length).toBeGreaterThanOrEqual(2)
    expect(lines.filter((l) => l.startsWith('info back'))).toHaveLength(1)
    expect(lines.find((l) => l.startsWith('info back'))).toMatch(/"outageMs":\d+/)
  })

  it('a failing first start() is TRANSPORT_UNAVAILABLE saying what to check, or the error of open', async () => {
    const failing = harness({ unreachable: 'cannot connect; is the broker running?' })
    failing.state.down = true
    await expect(failing.r.start()).rejects.toMatchObject({
      code: 'TRANSPORT_UNAVAILABLE',
      message: expect.stringContaining('[test] cannot connect; is the broker running? (refused)'),
    })
    const plain = harness()
    plain.state.down = true
    await expect(plain.r.start()).rejects.toThrow(/^refused$/)
    // An OmnibusError of open says what is wrong already: it is not hidden behind `unreachable`.
    const missing = new OmnibusError('CHANNEL_NOT_FOUND', 'queue "q" does not exist')
    const named = harness({ unreachable: 'cannot connect', open: () => Promise.reject(missing) })
    await expect(named.r.start()).rejects.toBe(missing)
  })

  it('with `on`, opens again at once after what it lives on recovered, until stopped', async () => {
    const parent = harness()
    const parentFirst = await parent.r.start()
    const child = harness({ on: parent.r as Reconnecting<unknown> })
    const childFirst = await child.r.start()
    // A stopped child's recover() returns at once, so only its calls tell whether the parent still
    // holds its listener (a stopped channel's, kept alive by its connection for ever).
    const recover = vi.spyOn(child.r, 'recover')
    parent.r.lost(parentFirst, 'peer closed')
    await waitFor('the child opened again', () => child.state.opened === 2, 5_000)
    expect(childFirst.closed).toBe(true)
    expect(recover).toHaveBeenCalledTimes(1)
    child.r.stop()
    parent.r.lost(parent.r.current!, 'peer closed again')
    // The parent runs its listeners before ready() wakes: a listener left behind has run by then.
    await parent.r.ready(AbortSignal.timeout(5_000))
    expect(parent.state.opened).toBe(3)
    expect(recover).toHaveBeenCalledTimes(1) // stopped: no longer follows
    expect(child.state.opened).toBe(2)
  })

  it('with `on`, a child that cannot open again does not hold its parent back', async () => {
    const parent = harness()
    const parentFirst = await parent.r.start()
    const child = harness({ on: parent.r as Reconnecting<unknown> })
    await child.r.start()
    child.state.down = true // its queue is gone for good, say
    parent.r.lost(parentFirst, 'peer closed')
    await parent.r.ready(AbortSignal.timeout(5_000))
    // Lost again while the child still fails: the parent recovers again all the same.
    parent.r.lost(parent.r.current!, 'peer closed again')
    await parent.r.ready(AbortSignal.timeout(5_000))
    expect(parent.state.opened).toBe(3)
    expect(child.r.current).toBeUndefined()
    child.r.stop()
    parent.r.stop()
  })

  it('idle(withinMs) waits for a recovery under way, but no longer than withinMs', async () => {
    let attempts = 0
    const hanging = harness({
      open: () => (++attempts === 1 ? Promise.resolve({ n: 1, closed: false }) : new Promise(() => {})),
    })
    const first = await hanging.r.start()
    await hanging.r.idle() // nothing under way: at once
    hanging.r.lost(first, 'peer closed')
    await waitFor('an attempt under way', () => attempts === 2, 5_000)
    hanging.r.stop()
    const started = Date.now()
    await hanging.r.idle(50)
    // Unbounded, it would wait for ever: 10 s is only the room a loaded machine needs.
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it('a ready() that waits too long is TRANSPORT_UNAVAILABLE saying what waited', async () => {
    const { r, state } = harness()
    const first = await r.start()
    state.down = true
    r.lost(first, 'peer closed')
    await expect(
      r.ready(AbortSignal.timeout(30), 'provisioning group "g" of channel "c"'),
    ).rejects.toMatchObject({
      code: 'TRANSPORT_UNAVAILABLE',
      message: expect.stringContaining('[test] provisioning group "g" of channel "c": not connected in time'),
    })
    r.stop()
  })

  it('ignores the loss of a resource that is not the current one', async () => {
    const { r } = harness()
    const first = await r.start()
    r.lost({ n: 99, closed: false }, 'stale')
    expect(r.current).toBe(first)
  })

  it('runs its listeners before ready() wakes; a failing one is logged, not thrown', async () => {
    const { r, lines } = harness()
    const order: string[] = []
    r.onRecovered(async (resource) => {
      await new Promise((resolve) => setTimeout(resolve, 20))
      order.push(`listener ${resource.n}`)
    })
    r.onRecovered(() => {
      throw new Error('step broke')
    })
    r.lost(await r.start(), 'gone')
    const ready = r.ready(AbortSignal.timeout(5_000)).then((resource) => order.push(`ready ${resource.n}`))
    await ready
    expect(order).toEqual(['listener 2', 'ready 2'])
    expect(lines.some((l) => l.startsWith('warn a recovery step failed') && l.includes('step broke'))).toBe(
      true,
    )
  })

  it('recover() during a recovery skips its pause: the next attempt follows at once', async () => {
    const { r, state, lines } = harness({ minMs: 60_000, maxMs: 60_000 })
    state.down = true
    const recovered = r.recover('first')
    // The first attempt failed: a minute's pause follows.
    await waitFor('the first attempt to fail', () => lines.some((l) => l.startsWith('debug not yet')), 5_000)
    state.down = false
    const started = Date.now()
    await r.recover('what it needs is back')
    await recovered
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(r.current?.n).toBe(1)
  })

  it('lost again while its listeners run, it opens again instead of staying down', async () => {
    const { r, state } = harness()
    let losses = 0
    r.onRecovered((resource) => {
      // The first recovered resource fails at once, as a broker that drops a connection while booting.
      if (losses++ === 0) r.lost(resource, 'dropped again')
    })
    r.lost(await r.start(), 'gone')
    const next = await r.ready(AbortSignal.timeout(5_000))
    expect(next.n).toBe(3)
    expect(state.opened).toBe(3)
    expect(r.current).toBe(next)
  })

  it('ready() rejects with TRANSPORT_UNAVAILABLE when its signal aborts first', async () => {
    const { r, state } = harness()
    state.down = true
    void r.recover('down')
    await expect(r.ready(AbortSignal.timeout(30))).rejects.toMatchObject({ code: 'TRANSPORT_UNAVAILABLE' })
    r.stop()
  })

  it('stop() hands over the current resource, ends recovery, and closes what a late attempt opens', async () => {
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const late: Resource = { n: 7, closed: false }
    const { r } = harness()
    const first = await r.start()
    expect(r.stop()).toBe(first)
    expect(r.current).toBeUndefined()
    const { r: other } = harness({
      open: async () => {
        await gate
        return late
      },
    })
    const recovering = other.recover('lost')
    other.stop()
    release()
    await recovering
    expect(late.closed).toBe(true)
    expect(other.current).toBeUndefined()
  })
})

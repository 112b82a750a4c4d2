import { createBus, type Envelope, type Logger } from '@omnibus/core'
import { type Channel, MALFORMED_TYPE, type Transport } from '@omnibus/core/adapter'
import { expect } from 'vitest'

/**
 * Hostile input, written with the broker's own client as a foreign producer
 * would: what breaks a MUST of CloudEvents or an Omnibus rule must be
 * dead-lettered once with its reason, whatever its size; what breaks only a
 * SHOULD is handled (and warned about once); every good message is handled;
 * nothing keeps cycling. Each adapter's `<name>-hostile.test.ts` runs it.
 */
export interface HostileMessage {
  readonly label: string
  readonly body: Uint8Array
  /** Binary mode: CloudEvents attributes by name; the injector writes them under its broker's prefix. */
  readonly attributes?: Readonly<Record<string, string | Uint8Array>>
  /** Other headers, as they are. */
  readonly headers?: Readonly<Record<string, string | Uint8Array>>
  /** Headers in the broker client's own typed form (an AMQP timestamp), written as they are. */
  readonly typed?: Readonly<Record<string, unknown>>
  readonly contentType?: string
  /** Dead-lettered with a reason matching `malformed` (truncated: too large to dead-letter whole), or handled. */
  readonly expect:
    | { readonly malformed: RegExp; readonly truncated?: boolean }
    | { readonly handled: string; readonly check?: (event: Envelope) => void }
}

export interface HostileOptions {
  readonly name: string
  readonly createTransport: () => Transport
  /** Writes `message` to `channel` (a topic other groups subscribe to) with the broker's own client. */
  inject(channel: Channel, message: HostileMessage): Promise<void>
  /** Messages for this broker alone (bytes in headers, its own size limits), given the scenario's type. */
  readonly extra?: (type: string) => readonly HostileMessage[]
  /** Labels of shared messages this transport cannot carry, e.g. binary attributes where it has no headers. */
  readonly skip?: readonly string[]
  /** Multiplies the deadlines. */
  readonly patience?: number
}

const TRUNCATED_TYPE = 'dev.omnibus.truncated'
const base = { specversion: '1.0', source: 'urn:other-producer', datacontenttype: 'application/json' }
const json = (id: string, type: string, attributes: Record<string, unknown>): Uint8Array =>
  Buffer.from(JSON.stringify({ ...base, id, type, data: { id }, ...attributes }))
const structured = 'application/cloudevents+json'

/** The messages every broker can carry. */
export function sharedMessages(type: string, longName: string): HostileMessage[] {
  const bad = (label: string, attributes: Record<string, unknown>, malformed: RegExp): HostileMessage => ({
    label,
    body: json(label, type, attributes),
    contentType: structured,
    expect: { malformed },
  })
  const invalidSubject = Buffer.concat([
    Buffer.from(JSON.stringify({ ...base, id: 'bad-utf8', type }).slice(0, -1)),
    Buffer.from(',"subject":"caf'),
    Buffer.from([0xc3, 0x28]),
    Buffer.from('"}'),
  ])
  return [
    bad('kind-banana', { messagekind: 'banana' }, /"messagekind" must be one of/),
    bad('spec-03', { specversion: '0.3' }, /"specversion" must be "1.0"/),
    bad('empty-id', { id: '' }, /"id"/),
    bad('replyto-elsewhere', { replyto: 'orders' }, /"replyto" must name an Omnibus reply queue/),
    bad('time-prose', { time: 'March 7, 2024' }, /"time" must be an RFC 3339 timestamp/),
    bad('int-too-big', { count: 2 ** 31 }, /"count" must be an integer/),
    bad('ext-name', { 'Bad-Name': 'x' }, /"Bad-Name" is not a valid attribute name/),
    {
      label: 'subject-not-utf8',
      body: invalidSubject,
      contentType: structured,
      expect: { malformed: /UTF-8/ },
    },
    {
      label: 'binary-kind-banana',
      body: Buffer.from('{"a":1}'),
      contentType: 'application/json',
      attributes: { specversion: '1.0', id: 'bin-banana', source: 'urn:x', type, messagekind: 'banana' },
      expect: { malformed: /"messagekind"/ },
    },
    {
      label: 'not-a-cloudevent',
      body: Buffer.from('plain text, not JSON and no CloudEvents headers'),
      expect: { malformed: /CloudEvent|specversion/ },
    },
    ...['long-1', 'long-2'].map(
      (id): HostileMessage => ({
        label: id,
        body: json(id, type, { [longName]: 'should, not must' }),
        contentType: structured,
        expect: { handled: id },
      }),
    ),
    {
      label: 'other-sdk',
      body: json('other-sdk', type, {
        time: '2024-03-07T10:00:00.123456+05:30',
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      }),
      contentType: structured,
      expect: { handled: 'other-sdk' },
    },
  ]
}

/** Binary mode with a `subject` whose bytes are not UTF-8, for brokers whose headers carry bytes. */
export const subjectBytes = (header: string): HostileMessage => ({
  label: 'subject-bytes',
  body: Buffer.from('{}'),
  contentType: 'application/json',
  attributes: {
    specversion: '1.0',
    id: 'b-1',
    source: 'urn:x',
    type: 't',
    subject: Buffer.from([0x61, 0xff]),
  },
  expect: { malformed: new RegExp(`"subject" \\(header ${header}\\) is not valid UTF-8`) },
})

/** Junk of `bytes` bytes, or `headers` on junk: fine for the broker, its dead letter whole is not. */
export const poison = (label: string, bytes: number, headers?: Record<string, string>): HostileMessage => ({
  label,
  body: headers ? Buffer.from('junk') : Buffer.alloc(bytes, 0xfe),
  ...(headers ? { headers } : {}),
  expect: { malformed: /CloudEvent/, truncated: true },
})

/** `count` headers of `size` characters each (a `"` doubles in the dead letter's JSON of them). */
export const wideHeaders = (count: number, size: number, char = 'w'): Record<string, string> =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`x-wide-${i}`, char.repeat(size)]))

function capture(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = []
  const noop = () => {}
  return { warnings, logger: { debug: noop, info: noop, error: noop, warn: (m) => void warnings.push(m) } }
}

/** Runs the scenario; resolves when every expectation held, rejects naming what did not. */
export async function hostileScenario(options: HostileOptions): Promise<void> {
  const suffix = Math.random().toString(36).slice(2, 10)
  const type = `com.omnibus.hostile.${suffix}`
  const longName = `long${suffix}${'x'.repeat(40)}`
  const messages = [
    ...sharedMessages(type, longName).filter((m) => !options.skip?.includes(m.label)),
    ...(options.extra?.(type) ?? []),
  ]
  const { logger, warnings } = capture()
  const patience = options.patience ?? 1
  const make = (service: string, log?: Logger) =>
    createBus({
      service,
      transports: { t: options.createTransport() },
      delivery: { maxAttempts: 2, initialDelayMs: 20, maxDelayMs: 100 },
      ...(log ? { logger: log } : {}),
    })
  const handled = new Map<string, Envelope>()
  const consumer = await make(`hostile-${suffix}`, logger)
  consumer.on(type, async (e) => void handled.set(e.id, e))
  const letters: Envelope[] = []
  const reader = await make(`hostile-reader-${suffix}`)
  reader.onDeadLetter(type, async (e) => void letters.push(e))
  const producer = await make(`hostile-producer-${suffix}`)
  try {
    await consumer.start()
    await reader.start()
    await producer.start()
    const channel: Channel = { name: type, kind: 'topic' }
    const goods: string[] = []
    for (const [i, message] of messages.entries()) {
      await options.inject(channel, message)
      goods.push(`good-${i}`)
      await producer.publish({ type, id: `good-${i}`, data: { i } })
    }
    const bad = messages.filter((m) => 'malformed' in m.expect)
    const wanted = [...goods, ...messages.flatMap((m) => ('handled' in m.expect ? [m.expect.handled] : []))]
    const until = async (what: string, done: () => boolean, detail: () => string) => {
      const deadline = Date.now() + 120_000 * patience
      while (!done()) {
        if (Date.now() > deadline)
          throw new Error(`[${options.name}] timed out waiting for ${what}: ${detail()}`)
        await new Promise((r) => setTimeout(r, 50))
      }
    }
    const reasons = () => letters.map((l) => String(l.dlreason)).join(' | ')
    await until(
      'every good message',
      () => wanted.every((id) => handled.has(id)),
      () => `missing ${wanted.filter((id) => !handled.has(id)).join(', ')}`,
    )
    await until(
      `${bad.length} dead letters`,
      () => letters.length >= bad.length,
      () => `got ${letters.length}: ${reasons()}`,
    )
    // A last good message behind everything: on an ordered log it passes only once nothing before it cycles.
    await producer.publish({ type, id: 'last', data: {} })
    await until(
      'the last good message',
      () => handled.has('last'),
      () => 'not handled',
    )
    await until(
      'the consumer to count every malformed message',
      () => consumer.stats().malformed === bad.length,
      () => JSON.stringify(consumer.stats()),
    )
    expect(letters.length, reasons()).toBe(bad.length)
    expect(consumer.stats().malformed).toBe(bad.length)
    const wants = bad.map((m) => m.expect as { malformed: RegExp; truncated?: boolean })
    // A letter fits a message when its reason matches and it is of the kind (and, truncated, the size) expected.
    const pairs = pairUp(wants.length, letters.length, (w, l) => {
      const letter = letters[l]!
      if (!wants[w]!.malformed.test(String(letter.dlreason))) return false
      if (!wants[w]!.truncated) return letter.type === MALFORMED_TYPE
      return letter.type === TRUNCATED_TYPE && letter.dlsize === bad[w]!.body.byteLength
    })
    for (const [k, message] of bad.entries()) {
      const want = wants[k]!
      const i = pairs[k]
      expect(
        i,
        `${message.label}: no dead letter with a reason matching ${want.malformed} among ${reasons()}`,
      ).toBeDefined()
      const letter = letters[i!]
      expect(letter!.type, message.label).toBe(want.truncated ? TRUNCATED_TYPE : MALFORMED_TYPE)
      if (want.truncated) expect(letter!.dlsize, message.label).toBe(message.body.byteLength)
    }
    for (const message of messages) {
      if ('handled' in message.expect) message.expect.check?.(handled.get(message.expect.handled)!)
    }
    // The long extension name was accepted twice and reported once.
    expect(warnings.filter((w) => w.includes(longName.slice(0, 20))).length).toBe(1)
  } finally {
    await Promise.allSettled([consumer.stop(), reader.stop(), producer.stop()])
  }
}

/**
 * Each malformed message's own dead letter, by index (undefined: none fits). A pattern may
 * match several reasons (/UTF-8/ also matches the subject's), and letters arrive in
 * any order, so a first match could take another message's letter: a bipartite matching instead.
 */
function pairUp(
  messages: number,
  letters: number,
  fits: (message: number, letter: number) => boolean,
): (number | undefined)[] {
  const owner: (number | undefined)[] = new Array(letters)
  const claim = (p: number, tried: Set<number>): boolean => {
    for (let l = 0; l < letters; l++) {
      if (tried.has(l) || !fits(p, l)) continue
      tried.add(l)
      if (owner[l] === undefined || claim(owner[l]!, tried)) {
        owner[l] = p
        return true
      }
    }
    return false
  }
  for (let p = 0; p < messages; p++) claim(p, new Set())
  const letterOf: (number | undefined)[] = new Array(messages)
  owner.forEach((p, l) => {
    if (p !== undefined) letterOf[p] = l
  })
  return letterOf
}

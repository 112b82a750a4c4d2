import { type HostileMessage, hostileScenario, poison, wideHeaders } from '@omnibus/conformance/hostile'
import { afterAll, test } from 'vitest'
import { makeTransport, rawClient } from './helpers.js'

const raw = rawClient()
afterAll(() => raw.close())

/** @google-cloud/pubsub publishes the bytes: attributes as `ce-` attributes (Pub/Sub attributes are text). */
async function inject(topic: string, m: HostileMessage): Promise<void> {
  const attributes: Record<string, string> = {}
  for (const [name, value] of Object.entries({ ...m.headers })) attributes[name] = String(value)
  for (const [name, value] of Object.entries(m.attributes ?? {})) attributes[`ce-${name}`] = String(value)
  if (m.contentType) attributes['content-type'] = m.contentType
  await raw.topic(topic).publishMessage({ data: Buffer.from(m.body), attributes })
}

test('gcp: hostile messages are dead-lettered once, good ones handled, none left cycling', async () => {
  await hostileScenario({
    name: 'gcp',
    createTransport: () => makeTransport(),
    inject: (channel, m) => inject(makeTransport().topicName(channel), m),
    // Under Pub/Sub's 10 MB, and attributes each within 1,024 bytes; the dead letters whole
    // are not (base64 over 10 MB; one dlheaders attribute of them all over 1,024 bytes).
    extra: () => [poison('poison-9.9mb', 9_900_000), poison('poison-attributes', 0, wideHeaders(6, 400))],
  })
}, 300_000)

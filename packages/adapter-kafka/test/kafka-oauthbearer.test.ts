import { createSign, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { expectDenied } from '@omnibus/conformance'
import type { Transport } from '@omnibus/core/adapter'
import { afterEach, describe, expect, it } from 'vitest'
import { kafkaTransport } from '../src/index.js'
import { event, recorder, uniq, waitFor } from './helpers.js'
import { SECURE_DIR, secureOptions } from './secure-helpers.js'

// Against `scripts/brokers up kafka-secure`: its SASL_SSL listener takes OAUTHBEARER tokens, RS256
// JWTs for audience omnibus-kafka from issuer urn:omnibus:test-idp, checked against a JWKS file.
// The signing key stands in for the identity provider: these tests mint the tokens a real one
// would hand out. The token's `sub` is the principal the broker's ACLs are written for.

const signingKey = readFileSync(resolve(SECURE_DIR, 'kafka-secure/oauth/signing.key'), 'utf8')
const rogueKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey

interface Claims {
  sub: string
  aud?: string
  iss?: string
  /** Seconds from now. */
  expiresIn?: number
}

function token(claims: Claims, key: string | KeyObject = signingKey): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const now = Math.floor(Date.now() / 1000)
  const head = part({ alg: 'RS256', typ: 'JWT', kid: 'omnibus-test' })
  const body = part({
    sub: claims.sub,
    aud: claims.aud ?? 'omnibus-kafka',
    iss: claims.iss ?? 'urn:omnibus:test-idp',
    iat: now - 5,
    exp: now + (claims.expiresIn ?? 300),
  })
  const signature = createSign('RSA-SHA256').update(`${head}.${body}`).sign(key).toString('base64url')
  return `${head}.${body}.${signature}`
}

const open: Transport[] = []
afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((t) => t.close()))
})

for (const driver of ['kafkajs', 'platformatic'] as const) {
  const transport = (tokens: () => string) => {
    const t = kafkaTransport(
      secureOptions({
        driver,
        sasl: { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: tokens() }) },
      }),
    )
    open.push(t)
    return t
  }

  describe(`kafka OAUTHBEARER (${driver})`, () => {
    it('publishes and consumes with a token for user omnibus, asking the provider for it', async () => {
      let asked = 0
      const t = transport(() => {
        asked++
        return token({ sub: 'omnibus' })
      })
      await t.connect()
      const channel = { name: uniq('com.omnibus.oauth'), kind: 'topic' as const }
      const { deliveries, handler } = recorder()
      await t.subscribe(channel, 'g', handler, { maxInFlight: 4, from: 'earliest' })
      await t.publish(channel, [event('com.omnibus.oauth.ping')])
      await waitFor('the delivery', () => deliveries.length === 1)
      expect(asked).toBeGreaterThan(0)
    })

    for (const [what, bad] of [
      ['a token signed by another key', () => token({ sub: 'omnibus' }, rogueKey)],
      ['an expired token', () => token({ sub: 'omnibus', expiresIn: -60 })],
      ['a token for another audience', () => token({ sub: 'omnibus', aud: 'someone-else' })],
      ['a token from another issuer', () => token({ sub: 'omnibus', iss: 'urn:elsewhere' })],
    ] as const) {
      it(`${what}: AUTH_FAILED at connect, fast`, async () => {
        const t = transport(bad)
        const { error, ms } = await expectDenied(() => t.connect(), 'AUTH_FAILED')
        expect(error.message).toMatch(/\[kafka\].*SASL/)
        expect(error.message).not.toContain(bad().split('.')[2]!)
        expect(ms).toBeLessThan(5000)
      })
    }

    it("tenant A's token on tenant B's channel: FORBIDDEN naming the channel", async () => {
      const t = transport(() => token({ sub: 'tenant-a' }))
      await t.connect()
      const channel = { name: uniq('tenant-b.orders'), kind: 'topic' as const }
      const { error, ms } = await expectDenied(
        () => t.subscribe(channel, 'g', async () => {}, { maxInFlight: 1 }),
        'FORBIDDEN',
      )
      expect(error.channel).toBe(channel.name)
      expect(ms).toBeLessThan(5000)
    })
  })
}

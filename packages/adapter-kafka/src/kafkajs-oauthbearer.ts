import kafkajs, { type AuthenticationProviderArgs, type SASLOptions } from 'kafkajs'

// From the default export: kafkajs spreads its error classes into module.exports, which Node's
// ESM loader cannot see as named exports (a named import fails at load time, outside vitest).
const { KafkaJSSASLAuthenticationError } = kafkajs

const SOH = '\u0001'

/**
 * kafkajs' own OAUTHBEARER login takes a refused token for a success: the broker answers it with
 * an error challenge (RFC 7628 §3.2.2, e.g. `{"status":"invalid_token"}`) and waits for the
 * client's one-byte reply, which kafkajs never sends, so `connect()` resolves and every request
 * after it hangs until its deadline. This login sends the token the same way, reads the
 * challenge, ends the exchange and fails with kafkajs' SASL error, which the transport reports as
 * AUTH_FAILED. Other mechanisms pass through untouched.
 */
export function withOAuthBearerFailures(sasl: SASLOptions): SASLOptions {
  if (sasl.mechanism !== 'oauthbearer') return sasl
  const provider = sasl.oauthBearerProvider
  return {
    ...sasl,
    authenticationProvider: ({ saslAuthenticate }: AuthenticationProviderArgs) => ({
      authenticate: async () => {
        const token = await provider()
        const first = `n,,${SOH}auth=Bearer ${token.value}${SOH}${SOH}`
        // kafkajs puts what encode() gives into SaslAuthenticate as it is: BYTES, length first.
        const bytes = (text: string) => ({
          encode: async () => {
            const body = Buffer.from(text)
            const framed = Buffer.alloc(4 + body.length)
            framed.writeInt32BE(body.length)
            body.copy(framed, 4)
            return framed
          },
        })
        const challenge = await saslAuthenticate<Buffer>({
          request: bytes(first),
          // The answer comes framed the same way: an empty body is success, any text a challenge.
          response: { decode: async (raw: Buffer) => raw.subarray(4), parse: (body: Buffer) => body },
        })
        if (!challenge?.length) return
        // The broker ends the exchange with its own error once it has the reply; ours says why.
        await saslAuthenticate({ request: bytes(SOH) }).catch(() => {})
        // kafkajs' class (its types hide the message argument): it is not retried, a plain Error is.
        throw new (KafkaJSSASLAuthenticationError as unknown as new (message: string) => Error)(
          `SASL OAUTHBEARER authentication failed: ${challenge}`,
        )
      },
    }),
  } as SASLOptions
}

import { isIP } from 'node:net'
import { type ConnectionOptions, connect } from 'node:tls'
import { tlsFailure } from './access-errors.js'

/**
 * One TLS handshake with the first of `brokers` (`host:port`) that answers, before the client
 * library connects. A client that counts a certificate failure as a connection error retries it
 * for its whole retry budget (kafkajs: about 35 s), which a certificate never survives; this
 * finds it at once. Resolves with the socket's error when the handshake failed over a
 * certificate (see tlsFailure), else undefined: a broker that does not answer, or fails for
 * another reason, is left to the client's own retries.
 */
export async function tlsPreflight(
  brokers: readonly string[],
  options: ConnectionOptions,
  timeoutMs = 10_000,
): Promise<Error | undefined> {
  for (const broker of brokers) {
    const at = broker.lastIndexOf(':')
    const host = broker.slice(0, at)
    const outcome = await new Promise<Error | undefined>((resolve) => {
      const socket = connect({
        ...options,
        host,
        port: Number(broker.slice(at + 1)),
        // SNI takes host names only; without one, Node checks the certificate against `host`.
        servername: options.servername ?? (isIP(host) ? undefined : host),
        timeout: timeoutMs,
      })
      const done = (error?: Error) => {
        socket.destroy()
        resolve(error)
      }
      socket.once('secureConnect', () => done())
      socket.once('error', done)
      socket.once('timeout', () => done(new Error('timed out')))
    })
    if (!outcome) return undefined
    if (tlsFailure(outcome)) return outcome
  }
  return undefined
}

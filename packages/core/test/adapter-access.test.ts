import { createServer, type Server } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { accessDenied, errorChain, tlsDenied, tlsFailure, tlsPreflight } from '../src/adapter/index.js'
import { AccessDeniedError } from '../src/index.js'

const servers: Server[] = []
afterEach(() => {
  for (const server of servers.splice(0)) server.close()
})

/** A plain TCP server that answers a TLS hello with text, as a broker on the wrong port would. */
async function notTls(): Promise<string> {
  const server = createServer((socket) => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'))
  servers.push(server.unref())
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `127.0.0.1:${(server.address() as { port: number }).port}`
}

/** A port nothing listens on. */
async function closedPort(): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return `127.0.0.1:${port}`
}

describe('adapter toolkit: refusals and TLS', () => {
  it('errorChain walks cause, originalError and an aggregate, and stops at depth', () => {
    const tls = Object.assign(new Error('self-signed certificate'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' })
    const wrapped = Object.assign(new Error('connection error'), { originalError: new AggregateError([tls]) })
    const outer = new Error('client failed', { cause: wrapped })
    expect([...errorChain(outer)].map((e) => e.message)).toEqual([
      'client failed',
      'connection error',
      '',
      'self-signed certificate',
    ])
    const loop: { cause?: unknown; message: string } = { message: 'loop' }
    loop.cause = loop
    expect([...errorChain(loop)]).toHaveLength(9)
    expect(tlsFailure(outer)).toEqual({
      code: 'SELF_SIGNED_CERT_IN_CHAIN',
      message: 'self-signed certificate',
    })
    expect(tlsFailure(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }))).toBeUndefined()
    expect(tlsFailure('not an error')).toBeUndefined()
  })

  it('tlsDenied: a failed handshake in the chain is AUTH_FAILED naming the code and the options to check', () => {
    const tls = Object.assign(new Error('certificate has expired\nmore'), { code: 'CERT_HAS_EXPIRED' })
    const denied = tlsDenied('mq', 'tls', 'orders', new Error('client failed', { cause: tls }))
    expect(denied).toBeInstanceOf(AccessDeniedError)
    expect(denied).toMatchObject({ code: 'AUTH_FAILED', channel: 'orders' })
    expect(denied?.message).toContain(
      'TLS failed (CERT_HAS_EXPIRED: certificate has expired); check tls.ca/caFile',
    )
    expect(denied?.message).toContain('tls.certFile/keyFile')
    expect(tlsDenied('mq', 'ssl', undefined, new Error('refused'))).toBeUndefined()
  })

  it('accessDenied words a refusal with its code, the channel when there is one, and the cause', () => {
    const cause = new Error('broker said no')
    const denied = accessDenied('foo', 'FORBIDDEN', 'orders', 'no ACL; ask for one', cause)
    expect(denied).toBeInstanceOf(AccessDeniedError)
    expect(denied).toMatchObject({ code: 'FORBIDDEN', transport: 'foo', channel: 'orders', cause })
    expect(denied.message).toBe('[omnibus] [foo] FORBIDDEN on channel "orders": no ACL; ask for one')
    expect(accessDenied('foo', 'AUTH_FAILED', undefined, 'wrong password', cause).message).toBe(
      '[omnibus] [foo] AUTH_FAILED: wrong password',
    )
  })

  it('tlsPreflight reports a handshake that failed, and leaves brokers that do not answer to the client', async () => {
    const closed = await closedPort()
    expect(await tlsPreflight([closed], {}, 2_000)).toBeUndefined()
    const failure = await tlsPreflight([closed, await notTls()], {}, 2_000)
    expect((failure as NodeJS.ErrnoException | undefined)?.code).toMatch(/^ERR_SSL_/)
    expect(await tlsPreflight([], {})).toBeUndefined()
  })
})

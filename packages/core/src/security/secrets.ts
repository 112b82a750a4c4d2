import { readFileSync } from 'node:fs'
import type { ConnectionOptions } from 'node:tls'
import { inspect } from 'node:util'
import { anyOption, isObject } from '../config/check.js'
import { ConfigError } from '../errors.js'
import type { Logger } from '../logger.js'

/**
 * Secrets in adapter options: given inline (config, or `OMNIBUS_*` variables) or as a file
 * (`<name>File`), so that they need not sit in a JSON config. Nothing here ever puts a
 * secret's value into a message; see README, Security.
 */

const REDACTED = '[redacted]'

/** Option names whose values are secrets, wherever they appear. */
const SECRET_KEY =
  /^(password|passphrase|key|pfx|token|secret|secretAccessKey|sessionToken|accessToken|credentials|authorization)$/i

/** Reads the file a `…File` option names; a ConfigError naming the option when it cannot. */
export function readSecretFile(key: string, path: unknown, what = 'secret'): Buffer {
  if (typeof path !== 'string' || path.length === 0) {
    throw new ConfigError(key, `must be the path of a file holding the ${what}`)
  }
  try {
    return readFileSync(path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable'
    throw new ConfigError(key, `cannot read ${path} (${code}); it should hold the ${what}`, { cause: error })
  }
}

/**
 * The text secret `name` of `options`: `options[name]`, or the contents of the file
 * `options[name + 'File']` with one trailing newline removed. A number (as an `OMNIBUS_*`
 * variable of digits parses) counts as its digits. Both given, or a wrong type, is a
 * ConfigError that does not repeat the value.
 */
export function secretOption(
  key: string,
  options: Readonly<Record<string, unknown>>,
  name: string,
): string | undefined {
  const inline = options[name]
  const file = options[`${name}File`]
  if (inline !== undefined && file !== undefined) {
    throw new ConfigError(`${key}.${name}`, `give either ${name} or ${name}File, not both`)
  }
  if (file !== undefined) {
    return readSecretFile(`${key}.${name}File`, file, name)
      .toString('utf8')
      .replace(/\r?\n$/, '')
  }
  if (inline === undefined) return undefined
  if (typeof inline === 'number') return String(inline)
  if (typeof inline !== 'string')
    throw new ConfigError(`${key}.${name}`, 'must be a string (its value is not shown)')
  return inline
}

/** TLS options with `…File` variants for the PEM material, as the Kafka and RabbitMQ adapters take them. */
export interface TlsOptions extends ConnectionOptions {
  /** PEM file(s) of the CA(s) to trust instead of Node's bundled ones. */
  caFile?: string | string[]
  /** PEM file of the client certificate (mutual TLS). */
  certFile?: string
  /** PEM file of the client certificate's private key. */
  keyFile?: string
  /** File holding the private key's passphrase. */
  passphraseFile?: string
}

/** The TLS option of an adapter's specs: `true`/`false`, or `TlsOptions` (read by tlsOptions). */
export const tlsOption = anyOption<boolean | TlsOptions>((v) =>
  typeof v === 'boolean' || isObject(v) ? undefined : 'must be true/false or an object of TLS options',
)

/**
 * Node TLS options from `TlsOptions`: files read (ConfigError naming the option when one cannot
 * be), everything else passed through. `rejectUnauthorized: false` works only when given
 * explicitly, and logs a warning every time a transport is made with it.
 */
export function tlsOptions(
  key: string,
  value: unknown,
  logger: Logger,
  transport: string,
): ConnectionOptions {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError(
      key,
      'must be an object of TLS options (ca/caFile, cert/certFile, key/keyFile, servername, …)',
    )
  }
  const { caFile, certFile, keyFile, passphraseFile, ...rest } = value as TlsOptions
  const tls: ConnectionOptions = { ...rest }
  const files = (name: string, paths: unknown): Buffer[] =>
    (Array.isArray(paths) ? paths : [paths]).map((p, i) =>
      readSecretFile(`${key}.${name}${Array.isArray(paths) ? `[${i}]` : ''}`, p, 'PEM'),
    )
  if (caFile !== undefined) {
    if (rest.ca !== undefined) throw new ConfigError(`${key}.ca`, 'give either ca or caFile, not both')
    tls.ca = files('caFile', caFile)
  }
  if (certFile !== undefined) {
    if (rest.cert !== undefined)
      throw new ConfigError(`${key}.cert`, 'give either cert or certFile, not both')
    tls.cert = files('certFile', certFile)[0]
  }
  if (keyFile !== undefined) {
    if (rest.key !== undefined) throw new ConfigError(`${key}.key`, 'give either key or keyFile, not both')
    tls.key = files('keyFile', keyFile)[0]
  }
  const passphrase = secretOption(key, { passphrase: rest.passphrase, passphraseFile }, 'passphrase')
  if (passphrase !== undefined) tls.passphrase = passphrase
  if (rest.rejectUnauthorized !== undefined && typeof rest.rejectUnauthorized !== 'boolean') {
    throw new ConfigError(`${key}.rejectUnauthorized`, 'must be true or false')
  }
  if (rest.rejectUnauthorized === false) {
    logger.warn(
      `[${transport}] TLS certificate checks are OFF (${key}.rejectUnauthorized: false): anyone between ` +
        'this service and the broker can read and change its traffic; give the broker CA as ca/caFile instead',
      { transport, key },
    )
  }
  return tls
}

/**
 * A copy of `value` safe to print: secret options ([SECRET_KEY]) and the password of a URL are
 * replaced, buffers and functions summarised, cycles cut. For toJSON/inspect of settings.
 */
export function redacted(value: unknown, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactUrl(value)
  if (typeof value === 'function') return '[function]'
  if (value === null || typeof value !== 'object') return value
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return REDACTED
  if (seen.has(value)) return '[circular]'
  seen.add(value)
  if (Array.isArray(value)) return value.map((v) => redacted(v, seen))
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return `[${value.constructor?.name ?? 'object'}]`
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEY.test(k) && v !== undefined && typeof v !== 'boolean' ? REDACTED : redacted(v, seen)
  }
  return out
}

/** `scheme://user:secret@host` → `scheme://user:***@host`; other text as it is. */
export function redactUrl(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^/\s:@]*):[^@\s/]*@/gi, '$1:***@')
}

/**
 * Gives `value` (adapter settings) a toJSON and util.inspect view through `redacted`, so that
 * printing it, or a transport holding it, shows no secret. Both are non-enumerable. `shown`
 * picks what to show instead of every field (a transport: its name and settings).
 */
export function withSafeView<T extends object>(value: T, shown: () => object = () => ({ ...value })): T {
  const view = () => redacted(shown())
  Object.defineProperty(value, 'toJSON', { value: view, enumerable: false })
  Object.defineProperty(value, inspect.custom, { value: view, enumerable: false })
  return value
}

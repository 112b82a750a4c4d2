import { ConfigError, errorMessage, OmnibusError } from '../errors.js'

/** One AES-256 key: its id (carried, in clear, on every message it encrypts) and its 32 bytes. */
export interface DataKey {
  readonly id: string
  readonly key: Uint8Array
}

/**
 * Where payload encryption gets its keys. `current` is the key new messages are encrypted with;
 * `key(id)` finds the key an arriving message names, for as long as such messages may exist
 * (rotation: a new current key, the old ones still found). Both may be asynchronous (a KMS or a
 * secret manager); `key` resolves undefined for an id that does not exist (the message is
 * dead-lettered) and throws when it cannot tell now (the message is left to the broker, redelivered).
 */
export interface KeyProvider {
  current(): DataKey | Promise<DataKey>
  key(id: string): DataKey | undefined | Promise<DataKey | undefined>
}

/** Key ids go on the wire as an extension value: short, printable, never a secret. */
const KEY_ID = /^[A-Za-z0-9._:+/=-]{1,256}$/

/** The key as 32 bytes: given as bytes, or as base64 or 64 hex digits (config, environment). */
export function keyBytes(where: string, value: unknown): Uint8Array {
  let bytes: Uint8Array | undefined
  if (value instanceof Uint8Array) bytes = value
  else if (typeof value === 'string')
    bytes = /^[0-9a-fA-F]{64}$/.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64')
  if (bytes?.byteLength !== 32) {
    // The value is a secret: its length is said, never the value.
    throw new ConfigError(
      where,
      `must be a 256-bit key: 32 bytes, base64 or 64 hex digits (got ${bytes ? `${bytes.byteLength} bytes` : typeof value}); make one with \`openssl rand -base64 32\``,
    )
  }
  return bytes
}

export function checkKeyId(where: string, id: unknown): string {
  if (typeof id !== 'string' || !KEY_ID.test(id)) {
    throw new ConfigError(where, 'must be a key id of 1-256 characters A-Z a-z 0-9 . _ : + / = -')
  }
  return id
}

/**
 * Keys held in memory (tests, or keys your service reads from its own secret store at start):
 * `keys` maps ids to keys, `current` names the one new messages use. Old ids stay for decrypting.
 */
export function staticKeys(options: {
  current: string
  keys: Readonly<Record<string, Uint8Array | string>>
}): KeyProvider {
  const keys = new Map<string, DataKey>()
  for (const [id, value] of Object.entries(options.keys ?? {})) {
    keys.set(id, {
      id: checkKeyId(`encryption.keys["${id}"]`, id),
      key: keyBytes(`encryption.keys.${id}`, value),
    })
  }
  const current = keys.get(options.current)
  if (!current) {
    throw new ConfigError(
      'encryption.current',
      `names no key: ${JSON.stringify(options.current)}; ids given: ${[...keys.keys()].join(', ') || 'none'}`,
    )
  }
  return { current: () => current, key: (id) => keys.get(id) }
}

export interface CachingKeysOptions {
  /** The id and key new messages use now (e.g. KMS GenerateDataKey, or the newest secret version). */
  current(): Promise<DataKey>
  /** The key of `id`, undefined when there is none (e.g. KMS Decrypt of a wrapped key carried as the id). */
  resolve(id: string): Promise<DataKey | undefined>
  /** How long the current key is used before `current()` is asked again (rotation). Default 5 minutes. */
  currentTtlMs?: number
  /** How many resolved keys are kept. Default 1000. */
  maxKeys?: number
}

/**
 * A KeyProvider around an asynchronous key service (KMS, Vault, a secret manager): the current
 * key is asked for again every `currentTtlMs`, resolved keys are kept (a key never changes for
 * its id), and concurrent asks for one id share one call. A failed call is not kept: the next
 * message asks again.
 */
export function cachingKeys(options: CachingKeysOptions): KeyProvider {
  const ttl = options.currentTtlMs ?? 5 * 60_000
  const maxKeys = options.maxKeys ?? 1000
  const resolved = new Map<string, Promise<DataKey | undefined>>()
  let current: { key: Promise<DataKey>; at: number } | undefined
  const checked = async (what: string, key: Promise<DataKey | undefined>) => {
    const k = await key
    if (k !== undefined) {
      checkKeyId(`${what}.id`, k.id)
      keyBytes(`${what}.key`, k.key)
    }
    return k
  }
  return {
    current() {
      if (!current || Date.now() - current.at >= ttl) {
        const key = checked('current()', options.current()).then((k) => {
          if (!k) throw new OmnibusError('ENCRYPTION_FAILED', 'the key provider gave no current key')
          resolved.set(k.id, Promise.resolve(k))
          return k
        })
        const entry = { key, at: Date.now() }
        current = entry
        key.catch(() => {
          if (current === entry) current = undefined
        })
      }
      return current.key
    },
    key(id) {
      let key = resolved.get(id)
      if (!key) {
        if (resolved.size >= maxKeys) resolved.delete(resolved.keys().next().value!)
        key = checked(`resolve("${id}")`, options.resolve(id)).catch((error: unknown) => {
          resolved.delete(id)
          throw new OmnibusError(
            'ENCRYPTION_FAILED',
            `the key service could not give key "${id}" now: ${errorMessage(error)}`,
            { cause: error },
          )
        })
        resolved.set(id, key)
      }
      return key
    },
  }
}

import {
  createCipheriv,
  createDecipheriv,
  createSecretKey,
  type KeyObject,
  randomFillSync,
} from 'node:crypto'
import { dataJson, encoded } from '../envelope/encoded.js'
import { type Envelope, withAttributes } from '../envelope/envelope.js'
import { ConfigError, errorMessage, OmnibusError } from '../errors.js'
import { checkKeyId, type DataKey, type KeyProvider, keyBytes, staticKeys } from './keys.js'
import { readSecretFile } from './secrets.js'

/**
 * End-to-end payload encryption (docs/DESIGN.md, "Payload encryption"). On the wire an encrypted
 * message keeps every attribute in clear (routing, tracing, partition keys work) and carries:
 * - `data`: bytes `01 | iv (12) | AES-256-GCM ciphertext | tag (16)` (`application/octet-stream`);
 *   the plaintext is one byte saying what the data was (none, JSON, text, bytes) and its bytes;
 * - `enckeyid`: the id of the key, `enccontenttype`: the original datacontenttype.
 * The attributes in AAD_FIELDS are the cipher's additional data, so changing any of them (the
 * type, the id, the tenant, the key id, …) fails decryption just as changing a data byte does.
 * Trace context is left out: instrumentation may rewrite it on the way.
 */
export const EncryptionExt = { keyId: 'enckeyid', contentType: 'enccontenttype' } as const

export const AAD_FIELDS = [
  'id',
  'source',
  'type',
  'subject',
  'time',
  'dataschema',
  'messagekind',
  'partitionkey',
  'correlationid',
  'causationid',
  'replyto',
  'deadline',
  'replystatus',
  'tenantid',
  'enckeyid',
  'enccontenttype',
] as const

const VERSION = 1
const IV_BYTES = 12
const TAG_BYTES = 16
const HEADER_BYTES = 1 + IV_BYTES
const SEALED_TYPE = 'application/octet-stream'
/** What the plaintext's first byte says the data was. */
enum Shape {
  None = 0,
  Json = 1,
  Text = 2,
  Bytes = 3,
}

/** The `encryption` section of a bus config. */
export interface EncryptionConfig {
  /** Where keys come from (staticKeys, cachingKeys, or your own). Or give current + keys/keyFiles. */
  provider?: KeyProvider
  /** The id of the key new messages use (with keys/keyFiles). */
  current?: string
  /** Keys by id: 32 bytes, base64 or hex. Old ids stay so that their messages still decrypt. */
  keys?: Record<string, string | Uint8Array>
  /** Files holding keys (base64 or hex text, or 32 raw bytes), by id. */
  keyFiles?: Record<string, string>
  /** Hand unencrypted messages to handlers (while senders move to encryption). Default false: dead-lettered. */
  acceptPlaintext?: boolean
}

export interface EncryptionSettings {
  readonly provider: KeyProvider
  readonly acceptPlaintext: boolean
}

export function encryptionSettings(config: unknown): EncryptionSettings {
  if (config === null || typeof config !== 'object' || Array.isArray(config))
    throw new ConfigError('encryption', 'must be an object: { provider } or { current, keys | keyFiles }')
  const c = config as EncryptionConfig
  for (const key of Object.keys(c)) {
    if (!['provider', 'current', 'keys', 'keyFiles', 'acceptPlaintext'].includes(key))
      throw new ConfigError(
        `encryption.${key}`,
        'is not an encryption option (provider, current, keys, keyFiles, acceptPlaintext)',
      )
  }
  if (c.acceptPlaintext !== undefined && typeof c.acceptPlaintext !== 'boolean')
    throw new ConfigError('encryption.acceptPlaintext', 'must be true or false')
  let provider = c.provider
  if (provider !== undefined) {
    if (typeof provider?.current !== 'function' || typeof provider.key !== 'function')
      throw new ConfigError(
        'encryption.provider',
        'must have current() and key(id) functions (staticKeys, cachingKeys)',
      )
    if (c.keys || c.keyFiles || c.current)
      throw new ConfigError('encryption', 'give either a provider or current with keys/keyFiles, not both')
  } else {
    const keys: Record<string, string | Uint8Array> = { ...(c.keys ?? {}) }
    for (const [id, path] of Object.entries(c.keyFiles ?? {})) {
      const bytes = readSecretFile(`encryption.keyFiles.${id}`, path, 'key')
      keys[id] = bytes.byteLength === 32 ? bytes : bytes.toString('utf8').trim()
    }
    if (typeof c.current !== 'string')
      throw new ConfigError('encryption.current', 'must name the key new messages use')
    provider = staticKeys({ current: c.current, keys })
  }
  return { provider, acceptPlaintext: c.acceptPlaintext ?? false }
}

/** The additional data: the AAD_FIELDS of `attributes` (with `own`, the encryption's own, over them), in order, absent ones as null. */
function additionalData(
  attributes: Readonly<Record<string, unknown>>,
  own?: Readonly<Record<string, unknown>>,
): Buffer {
  const values = AAD_FIELDS.map((name) => (own && name in own ? own[name] : attributes[name]) ?? null)
  return Buffer.from(`omnibus-e2e-${VERSION}\n${JSON.stringify(values)}`, 'utf8')
}

/** Random nonces, drawn from the system's generator a thousand at a time (one call each costs more than the cipher's setup). */
const NONCES = 1024
let nonces = Buffer.alloc(0)
let nextNonce = NONCES
function nonce(): Buffer {
  if (nextNonce === NONCES) {
    // A fresh buffer each time: the nonces handed out are kept (subarrays) by their messages.
    nonces = randomFillSync(Buffer.allocUnsafe(NONCES * IV_BYTES))
    nextNonce = 0
  }
  return nonces.subarray(nextNonce * IV_BYTES, ++nextNonce * IV_BYTES)
}

const JSON_TYPE = /^[^;]*(\/|\+)json\s*(;|$)/i

/** The data as bytes, and what it was. */
function plaintext(event: Envelope): [Shape, Uint8Array] {
  const data = event.data
  if (data === undefined) return [Shape.None, new Uint8Array(0)]
  if (data instanceof Uint8Array) return [Shape.Bytes, data]
  if (typeof data === 'string' && !JSON_TYPE.test(event.datacontenttype ?? ''))
    return [Shape.Text, Buffer.from(data, 'utf8')]
  return [Shape.Json, Buffer.from(dataJson(event, encoded(event)) ?? 'null', 'utf8')]
}

/** Node key objects by key, made (and the key checked) once per key. */
const keyObjects = new WeakMap<DataKey, KeyObject>()
function keyObject(key: DataKey): KeyObject {
  let object = keyObjects.get(key)
  if (!object) {
    checkKeyId('key id', key.id)
    object = createSecretKey(keyBytes(`key "${key.id}"`, key.key))
    keyObjects.set(key, object)
  }
  return object
}

/** `event` with its data encrypted under `key` (see the top of this file). */
export function seal(event: Envelope, key: DataKey): Envelope {
  const [shape, bytes] = plaintext(event)
  const own = { [EncryptionExt.keyId]: key.id, [EncryptionExt.contentType]: event.datacontenttype }
  const iv = nonce()
  const cipher = createCipheriv('aes-256-gcm', keyObject(key), iv)
  cipher.setAAD(additionalData(event, own))
  const sealed = Buffer.concat([
    Buffer.of(VERSION),
    iv,
    cipher.update(Buffer.of(shape)),
    cipher.update(bytes),
    cipher.final(),
    cipher.getAuthTag(),
  ])
  return withAttributes(event, { ...own, data: sealed, datacontenttype: SEALED_TYPE })
}

/** Why a message cannot be decrypted: it goes to the dead-letter channel with this reason. */
export class UndecryptableError extends OmnibusError {
  override readonly name = 'UndecryptableError'
  constructor(message: string, options?: { cause?: unknown }) {
    super('ENCRYPTION_FAILED', message, options)
  }
}

/** The key id an arriving event was encrypted with, or undefined when it is not encrypted. */
export const sealedWith = (event: Envelope): unknown => event[EncryptionExt.keyId]

/**
 * The original event of a sealed one. Throws UndecryptableError when it cannot be (tampered,
 * wrong key, not the format above).
 */
export function unseal(event: Envelope, key: DataKey): Envelope {
  const data = event.data
  if (
    !(data instanceof Uint8Array) ||
    data.byteLength < HEADER_BYTES + 1 + TAG_BYTES ||
    data[0] !== VERSION
  ) {
    throw new UndecryptableError(
      `encrypted message ${event.id} has no data in the Omnibus encrypted format (version ${VERSION}, iv, ciphertext, tag)`,
    )
  }
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  let plain: Buffer
  try {
    const decipher = createDecipheriv('aes-256-gcm', keyObject(key), bytes.subarray(1, HEADER_BYTES))
    decipher.setAAD(additionalData(event))
    decipher.setAuthTag(bytes.subarray(bytes.byteLength - TAG_BYTES))
    plain = Buffer.concat([
      decipher.update(bytes.subarray(HEADER_BYTES, bytes.byteLength - TAG_BYTES)),
      decipher.final(),
    ])
  } catch (error) {
    throw new UndecryptableError(
      `encrypted message ${event.id} failed authentication with key "${key.id}": its data or clear attributes were changed, or it was encrypted with another key of that id (${errorMessage(error)})`,
      { cause: error },
    )
  }
  const body = plain.subarray(1)
  const contentType = event[EncryptionExt.contentType]
  let restored: unknown
  try {
    switch (plain[0] as Shape) {
      case Shape.None:
        restored = undefined
        break
      case Shape.Json:
        restored = JSON.parse(body.toString('utf8'))
        break
      case Shape.Text:
        restored = body.toString('utf8')
        break
      case Shape.Bytes:
        restored = Buffer.from(body)
        break
      default:
        throw new Error(`unknown data shape ${plain[0]}`)
    }
  } catch (error) {
    throw new UndecryptableError(
      `encrypted message ${event.id} decrypted to unreadable data: ${errorMessage(error)}`,
      {
        cause: error,
      },
    )
  }
  return withAttributes(event, {
    data: restored,
    data_base64: undefined,
    datacontenttype: contentType,
    [EncryptionExt.keyId]: undefined,
    [EncryptionExt.contentType]: undefined,
  })
}

/**
 * The structured size of the sealed form of an event whose plaintext structured size is `size`
 * is at most 4/3 of it plus this (base64, iv, tag, the two extensions with a 256-character id).
 */
export const SEALED_OVERHEAD_BYTES = 4096

/** The largest plaintext message, by its structured size, whose sealed form fits in `limit`. */
export const plaintextLimit = (limit: number): number =>
  Math.max(0, Math.floor(((limit - SEALED_OVERHEAD_BYTES) * 3) / 4))

/**
 * @omnibus/core/security: payload encryption, tenants and the authorization audit (README,
 * Security; docs/DESIGN.md). A bus gets them from its config (`encryption`, `tenant`); this
 * entry point holds the key providers, the wrapper for a transport built by hand, and the
 * names of what goes on the wire.
 */
export type { AuthorizationRecord } from './audit.js'
export { type EncryptionConfig, EncryptionExt, UndecryptableError } from './encryption.js'
export { type CachingKeysOptions, cachingKeys, type DataKey, type KeyProvider, staticKeys } from './keys.js'
export { type SecureTransportOptions, secureTransport } from './secured-transport.js'
export { TENANT_EXT, type TenantConfig } from './tenant.js'

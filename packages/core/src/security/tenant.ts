import type { Envelope } from '../envelope/envelope.js'
import { ConfigError, EnvelopeError } from '../errors.js'
import type { Channel } from '../transport/transport.js'

/** The extension naming the tenant a message belongs to, on every message of a tenant-scoped bus. */
export const TENANT_EXT = 'tenantid'

/**
 * The `tenant` of a bus config: the tenant's id, and where its channels are.
 * - `prefix` (default): every channel and group of the bus is `<id>.<name>` on the broker, so
 *   that broker permissions per prefix (Kafka prefixed ACLs, RabbitMQ permission patterns, IAM
 *   resource names) keep tenants apart;
 * - `shared`: names as they are; the tenant is kept apart by its transport (a RabbitMQ vhost or a
 *   cluster per tenant, given in the transport's options) or only by the `tenantid` check.
 */
export interface TenantConfig {
  id: string
  channels?: 'prefix' | 'shared'
}

export interface TenantSettings {
  readonly id: string
  /** `<id>.` in `prefix` mode, undefined in `shared` mode. */
  readonly prefix: string | undefined
}

const TENANT_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/

export function tenantSettings(config: unknown): TenantSettings {
  const c: Partial<TenantConfig> = typeof config === 'string' ? { id: config } : (config as TenantConfig)
  if (c === null || typeof c !== 'object' || Array.isArray(c))
    throw new ConfigError('tenant', 'must be a tenant id, or { id, channels: "prefix" | "shared" }')
  for (const key of Object.keys(c)) {
    if (key !== 'id' && key !== 'channels')
      throw new ConfigError(`tenant.${key}`, 'is not a tenant option (id, channels)')
  }
  if (typeof c.id !== 'string' || !TENANT_ID.test(c.id))
    throw new ConfigError(
      'tenant.id',
      'must be 1-63 characters A-Z a-z 0-9 _ -, starting with a letter or digit',
    )
  const channels = c.channels ?? 'prefix'
  if (channels !== 'prefix' && channels !== 'shared')
    throw new ConfigError('tenant.channels', `must be "prefix" or "shared", got ${JSON.stringify(channels)}`)
  return { id: c.id, prefix: channels === 'prefix' ? `${c.id}.` : undefined }
}

/** The channel as the broker sees it. */
export const tenantChannel = (tenant: TenantSettings | undefined, channel: Channel): Channel =>
  tenant?.prefix === undefined ? channel : { ...channel, name: tenant.prefix + channel.name }

export const tenantGroup = (tenant: TenantSettings | undefined, group: string): string =>
  tenant?.prefix === undefined ? group : tenant.prefix + group

/** Outgoing: the tenant stamped on; a message that names another tenant is refused. */
export function stampTenant(tenant: TenantSettings, event: Envelope): Record<string, unknown> | undefined {
  const given = event[TENANT_EXT]
  if (given === tenant.id) return undefined
  if (given !== undefined)
    throw new EnvelopeError(
      TENANT_EXT,
      `is ${JSON.stringify(given)}, but this bus is scoped to tenant "${tenant.id}"; send it from that tenant's bus`,
    )
  return { [TENANT_EXT]: tenant.id }
}

/** Incoming: why the event may not reach this tenant's handlers, or undefined. */
export function foreignTenant(tenant: TenantSettings, event: Envelope): string | undefined {
  const given = event[TENANT_EXT]
  if (given === tenant.id) return undefined
  return given === undefined
    ? `message ${event.id} carries no ${TENANT_EXT}; this bus handles only tenant "${tenant.id}"`
    : `message ${event.id} belongs to tenant ${JSON.stringify(given)}, not "${tenant.id}"`
}

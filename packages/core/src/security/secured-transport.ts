import { encodeStructured, malformedData, structuredSize, structuredSizeBound } from '../envelope/binding.js'
import { type Envelope, withAttributes } from '../envelope/envelope.js'
import { errorMessage, MessageTooLargeError, OmnibusError } from '../errors.js'
import { type Logger, silentLogger } from '../logger.js'
import type { Instrumentation } from '../telemetry/instrumentation.js'
import type {
  Capabilities,
  Channel,
  Delivery,
  DeliveryHandler,
  StartPosition,
  SubscribeOptions,
  Subscription,
  Transport,
} from '../transport/transport.js'
import { type AuditSettings, audit, audited, principalOf } from './audit.js'
import {
  type EncryptionConfig,
  type EncryptionSettings,
  encryptionSettings,
  plaintextLimit,
  seal,
  sealedWith,
  UndecryptableError,
  unseal,
} from './encryption.js'
import type { DataKey } from './keys.js'
import {
  foreignTenant,
  stampTenant,
  type TenantConfig,
  type TenantSettings,
  tenantChannel,
  tenantGroup,
  tenantSettings,
} from './tenant.js'

/** What `secureTransport` adds around a transport; each part is optional. */
export interface SecureTransportOptions {
  /** Payload encryption (see EncryptionConfig). */
  encryption?: EncryptionConfig
  /** A tenant-scoped transport: a tenant id, or { id, channels }. */
  tenant?: string | TenantConfig
  /** Audit of subscriptions and denials, logged at info (and counted by the instrumentation). */
  audit?: {
    service: string
    transport: string
    principal: string
    logger: Logger
    instrumentation?: Instrumentation
  }
  /** Where undecryptable-for-now messages are reported. Default: the audit's logger, else nowhere. */
  logger?: Logger
}

/**
 * A transport with payload encryption, tenant scoping and the audit added, in that order
 * outwards: outgoing events get the tenant, then are encrypted (so the tenant is authenticated);
 * arriving ones are decrypted, then checked for the tenant. What cannot be decrypted, or belongs
 * to another tenant, reaches core as a malformed delivery: dead-lettered with the reason, never
 * handed to a handler. createBus applies it from the config's `encryption` and `tenant`; use it
 * directly to secure a transport you build yourself.
 */
export function secureTransport(inner: Transport, options: SecureTransportOptions): Transport {
  return new SecuredTransport(inner, {
    ...(options.encryption ? { encryption: encryptionSettings(options.encryption) } : {}),
    ...(options.tenant ? { tenant: tenantSettings(options.tenant) } : {}),
    ...(options.audit ? { audit: options.audit } : {}),
    logger: options.logger ?? options.audit?.logger ?? silentLogger,
  })
}

/** The parts of a bus config that secure its transports, read once per bus. */
export interface BusSecurity {
  wrap(transport: Transport, key: string, spec?: { adapter: string } & Record<string, unknown>): Transport
}

export function busSecurity(config: {
  service: string
  encryption?: unknown
  tenant?: unknown
  logger: Logger
  instrumentation?: Instrumentation
}): BusSecurity {
  const encryption = config.encryption === undefined ? undefined : encryptionSettings(config.encryption)
  const tenant = config.tenant === undefined ? undefined : tenantSettings(config.tenant)
  return {
    wrap(transport, key, spec) {
      const { adapter, ...options } = spec ?? { adapter: transport.name }
      return new SecuredTransport(transport, {
        ...(encryption ? { encryption } : {}),
        ...(tenant ? { tenant } : {}),
        audit: {
          service: config.service,
          transport: key,
          principal: principalOf(adapter, options),
          ...(tenant ? { tenant: tenant.id } : {}),
          logger: config.logger,
          ...(config.instrumentation ? { instrumentation: config.instrumentation } : {}),
        },
        logger: config.logger,
      })
    },
  }
}

interface Settings {
  readonly encryption?: EncryptionSettings
  readonly tenant?: TenantSettings
  readonly audit?: AuditSettings
  readonly logger: Logger
}

class SecuredTransport implements Transport {
  readonly backlog?: (channel: Channel, group: string) => Promise<number | undefined>
  private readonly changesMessages: boolean

  constructor(
    private readonly inner: Transport,
    private readonly settings: Settings,
  ) {
    const { tenant } = settings
    this.changesMessages = settings.encryption !== undefined || tenant !== undefined
    const backlog = inner.backlog
    if (backlog)
      this.backlog = (channel, group) =>
        backlog.call(inner, tenantChannel(tenant, channel), tenantGroup(tenant, group))
  }

  get name(): string {
    return this.inner.name
  }

  get capabilities(): Capabilities {
    const inner = this.inner.capabilities
    const { encryption, tenant } = this.settings
    if (!encryption && tenant?.prefix === undefined) return inner
    const ordered = inner.orderedChannel
    return {
      ...inner,
      ...(encryption ? { maxMessageBytes: plaintextLimit(inner.maxMessageBytes) } : {}),
      ...(ordered
        ? { orderedChannel: (name: string) => ordered(tenantChannel(tenant, { name, kind: 'topic' }).name) }
        : {}),
    }
  }

  connect(): Promise<void> {
    return this.guard({ operation: 'connect' }, this.inner.connect())
  }

  publish(channel: Channel, events: readonly Envelope[]): Promise<void> {
    if (!this.changesMessages)
      return this.guard({ operation: 'publish', channel: channel.name }, this.inner.publish(channel, events))
    return this.publishSecured(tenantChannel(this.settings.tenant, channel), events)
  }

  private async publishSecured(channel: Channel, events: readonly Envelope[]): Promise<void> {
    const { tenant, encryption } = this.settings
    let out = events
    if (tenant)
      out = out.map((event) => {
        const stamp = stampTenant(tenant, event)
        return stamp ? withAttributes(event, stamp) : event
      })
    if (encryption) {
      const key = await this.currentKey(encryption)
      const limit = this.inner.capabilities.maxMessageBytes
      out = out.map((event) => {
        const sealed = seal(event, key)
        // The plaintext limit (capabilities) keeps nearly every event clear of this.
        if (structuredSizeBound(sealed) > limit && structuredSize(sealed) > limit)
          throw new MessageTooLargeError(this.name, limit, structuredSize(sealed), event.id)
        return sealed
      })
    }
    return this.guard({ operation: 'publish', channel: channel.name }, this.inner.publish(channel, out))
  }

  private async currentKey(encryption: EncryptionSettings): Promise<DataKey> {
    try {
      return await encryption.provider.current()
    } catch (error) {
      if (error instanceof OmnibusError) throw error
      throw new OmnibusError(
        'ENCRYPTION_FAILED',
        `[${this.name}] the key provider gave no current key, so nothing was sent: ${errorMessage(error)}`,
        { cause: error },
      )
    }
  }

  provision(channel: Channel, group: string, from?: StartPosition): Promise<void> {
    const on = tenantChannel(this.settings.tenant, channel)
    const as = tenantGroup(this.settings.tenant, group)
    return this.guard(
      { operation: 'provision', channel: on.name, group: as },
      this.inner.provision?.(on, as, from) ?? Promise.resolve(),
    )
  }

  async subscribe(
    channel: Channel,
    group: string,
    handler: DeliveryHandler,
    options: SubscribeOptions,
  ): Promise<Subscription> {
    const on = tenantChannel(this.settings.tenant, channel)
    const as = tenantGroup(this.settings.tenant, group)
    const inbound: DeliveryHandler = this.changesMessages ? (d) => this.inbound(d, handler) : handler
    const fields = { operation: 'subscribe' as const, channel: on.name, group: as }
    const subscription = await this.guard(fields, this.inner.subscribe(on, as, inbound, options))
    if (this.settings.audit) audit(this.settings.audit, this.name, fields)
    return subscription
  }

  close(): Promise<void> {
    return this.inner.close()
  }

  /** An arriving delivery decrypted and checked, or turned into a malformed one with the reason. */
  private async inbound(delivery: Delivery, handler: DeliveryHandler): Promise<void> {
    const received = delivery.event
    if (received === undefined) return handler(delivery)
    const { encryption, tenant } = this.settings
    let event = received
    if (encryption) {
      const id = sealedWith(received)
      if (id === undefined) {
        if (!encryption.acceptPlaintext)
          return handler(
            refused(
              delivery,
              received,
              `message ${received.id} is not encrypted, and this bus accepts only encrypted messages (encryption.acceptPlaintext is off)`,
            ),
          )
      } else {
        const key = typeof id === 'string' ? await this.keyFor(encryption, id) : undefined
        if (!key)
          return handler(
            refused(
              delivery,
              received,
              `message ${received.id} is encrypted with key ${JSON.stringify(id)}, which the key provider does not have`,
            ),
          )
        try {
          event = unseal(received, key)
        } catch (error) {
          if (error instanceof UndecryptableError) return handler(refused(delivery, received, error.message))
          throw error
        }
      }
    }
    if (tenant) {
      const foreign = foreignTenant(tenant, event)
      if (foreign !== undefined) return handler(refused(delivery, received, foreign))
    }
    return handler({ event, deliveryCount: delivery.deliveryCount })
  }

  /** The key of `id`; a provider that cannot tell now leaves the message to the broker (redelivered). */
  private async keyFor(encryption: EncryptionSettings, id: string): Promise<DataKey | undefined> {
    try {
      return await encryption.provider.key(id)
    } catch (error) {
      this.settings.logger.warn('key provider failed; the message is left to the broker for redelivery', {
        keyId: id,
        error: errorMessage(error),
      })
      throw error
    }
  }

  private guard<T>(
    fields: {
      operation: 'connect' | 'subscribe' | 'provision' | 'publish'
      channel?: string
      group?: string
    },
    work: Promise<T>,
  ): Promise<T> {
    const settings = this.settings.audit
    return settings ? audited(settings, this.name, fields, work) : work
  }
}

/** A delivery core dead-letters as malformed: the message as it arrived (still encrypted) and why. */
function refused(delivery: Delivery, received: Envelope, reason: string): Delivery {
  let body: Uint8Array
  try {
    body = encodeStructured(received)
  } catch (error) {
    // JSON data is parsed when first read (envelope/data.ts): data that does not parse is kept as it arrived.
    const arrived = malformedData(received)
    if (arrived === undefined) throw error
    return { malformed: { ...arrived, reason }, deliveryCount: delivery.deliveryCount }
  }
  return { malformed: { reason, body, headers: {} }, deliveryCount: delivery.deliveryCount }
}

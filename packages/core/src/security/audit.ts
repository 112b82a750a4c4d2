import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { Logger } from '../logger.js'
import type { Instrumentation } from '../telemetry/instrumentation.js'
import { AccessDeniedError } from './access.js'

/**
 * One authorization decision, as the audit log line and the `authorization` instrumentation
 * hook (a counter in @omnibus/opentelemetry) get it: a subscription the broker allowed, or an
 * attempt it denied. Never holds a secret: the principal is a user name, a certificate subject
 * or the name of a credential chain.
 */
export interface AuthorizationRecord {
  readonly outcome: 'allowed' | 'denied'
  readonly operation: 'connect' | 'subscribe' | 'provision' | 'publish'
  readonly service: string
  /** The transport's config name (`events`). */
  readonly transport: string
  /** The adapter (`kafka`, `rabbitmq`, …). */
  readonly system: string
  /** The channel as the broker names it (with a tenant prefix), when there was one. */
  readonly channel?: string
  readonly group?: string
  readonly principal: string
  readonly tenant?: string
  readonly code?: 'AUTH_FAILED' | 'FORBIDDEN'
}

export interface AuditSettings {
  readonly service: string
  readonly transport: string
  readonly principal: string
  readonly tenant?: string
  readonly logger: Logger
  readonly instrumentation?: Instrumentation
}

type Fields = Pick<AuthorizationRecord, 'operation' | 'channel' | 'group'>

/** Logs (info) and counts one decision. */
export function audit(
  settings: AuditSettings,
  system: string,
  fields: Fields,
  denied?: AccessDeniedError,
): void {
  const record: AuthorizationRecord = {
    outcome: denied ? 'denied' : 'allowed',
    service: settings.service,
    transport: settings.transport,
    system,
    principal: settings.principal,
    ...(settings.tenant !== undefined ? { tenant: settings.tenant } : {}),
    ...dropUndefined(fields),
    ...(denied ? { code: denied.code as 'AUTH_FAILED' | 'FORBIDDEN' } : {}),
  }
  settings.logger.info(denied ? 'access denied' : 'subscription authorized', { audit: true, ...record })
  settings.instrumentation?.authorization?.(record)
}

const dropUndefined = (fields: Fields): Fields =>
  Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Fields

/** Runs `work`, auditing an AccessDeniedError it throws (which is thrown on). */
export async function audited<T>(
  settings: AuditSettings,
  system: string,
  fields: Fields,
  work: Promise<T>,
): Promise<T> {
  try {
    return await work
  } catch (error) {
    if (error instanceof AccessDeniedError) audit(settings, system, fields, error)
    throw error
  }
}

/**
 * Who a transport authenticates as, from its options, for the audit: the SASL or AMQP user, the
 * subject of a client certificate (EXTERNAL), an AWS access key id or profile, a GCP service
 * account; otherwise the name of the ambient credentials. Reads no secret.
 */
export function principalOf(adapter: string, options: Readonly<Record<string, unknown>>): string {
  const o = options as Record<string, unknown>
  const sasl = o.sasl as Record<string, unknown> | undefined
  if (sasl && typeof sasl === 'object') {
    if (typeof sasl.username === 'string') return `User:${sasl.username}`
    if (String(sasl.mechanism).toLowerCase() === 'oauthbearer') return 'oauthbearer token'
  }
  if (o.auth === 'external') return certificateSubject(o.tls) ?? 'client certificate'
  if (typeof o.username === 'string') return o.username
  if (typeof o.url === 'string') {
    try {
      const user = decodeURIComponent(new URL(o.url).username)
      if (user) return user
    } catch {
      // Not a URL: the adapter says so at connect.
    }
  }
  const credentials = o.credentials as Record<string, unknown> | undefined
  if (credentials && typeof credentials === 'object') {
    if (typeof credentials.accessKeyId === 'string') return `aws:${credentials.accessKeyId}`
    if (typeof credentials.client_email === 'string') return credentials.client_email
  }
  if (typeof o.profile === 'string') return `aws profile ${o.profile}`
  switch (adapter) {
    case 'memory':
      return 'in-process'
    case 'aws':
      return 'aws default credential chain'
    case 'gcp':
      return 'gcp application default credentials'
    case 'rabbitmq':
      return 'guest'
    default:
      return 'anonymous'
  }
}

function certificateSubject(tls: unknown): string | undefined {
  if (!tls || typeof tls !== 'object') return undefined
  const t = tls as { cert?: unknown; certFile?: unknown }
  try {
    const pem = typeof t.certFile === 'string' ? readFileSync(t.certFile) : t.cert
    if (typeof pem !== 'string' && !Buffer.isBuffer(pem)) return undefined
    return new X509Certificate(pem).subject.replace(/\n/g, ', ')
  } catch {
    return undefined
  }
}

import type { MessageKind } from '../envelope/envelope.js'
import type { Channel } from '../transport/transport.js'

/** Sends matching message types (and/or kinds) to a transport, optionally onto a shared channel. */
export interface Route {
  /** A message type, or a pattern where `*` stands for any run of characters: `com.acme.order.*`. */
  match?: string
  /** Only messages of this kind. */
  kind?: MessageKind
  /** The name of a transport in `transports`. */
  transport: string
  /** Put every matching type on this one channel instead of a channel per type. */
  channel?: string
}

export interface Destination {
  readonly transport: string
  readonly channel: Channel
}

/** Events fan out to groups; commands and queries wait in a queue for one handler. */
export const channelKindOf = (kind: MessageKind): Channel['kind'] => (kind === 'event' ? 'topic' : 'queue')

function compile(pattern: string): (type: string) => boolean {
  if (!pattern.includes('*')) return (type) => type === pattern
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*')
  const regex = new RegExp(`^${source}$`)
  return (type) => regex.test(type)
}

/** Resolves a message type and kind to a transport and channel. First matching route wins. */
export class Router {
  private readonly rules: { route: Route; matches: (type: string) => boolean }[]
  private readonly cache: Record<MessageKind, Map<string, Destination>> = {
    event: new Map(),
    command: new Map(),
    query: new Map(),
  }

  constructor(
    routes: readonly Route[],
    private readonly defaultTransport: string,
  ) {
    this.rules = routes.map((route) => ({ route, matches: route.match ? compile(route.match) : () => true }))
  }

  /**
   * The transports that may hold a channel of this name: where a route names it as
   * its `channel`, or where a message type of that name goes (its own channel), for
   * any kind. Usually one; several when kinds of one name go to different transports.
   */
  transportsOf(channel: string): string[] {
    const found = new Set<string>()
    for (const { route } of this.rules) if (route.channel === channel) found.add(route.transport)
    for (const kind of ['event', 'command', 'query'] as const) {
      const destination = this.resolve(channel, kind)
      if (destination.channel.name === channel) found.add(destination.transport)
    }
    if (found.size === 0) found.add(this.defaultTransport)
    return [...found]
  }

  resolve(type: string, kind: MessageKind): Destination {
    const hit = this.cache[kind].get(type)
    if (hit) return hit
    const rule = this.rules.find(
      (r) => (r.route.kind === undefined || r.route.kind === kind) && r.matches(type),
    )
    const destination: Destination = {
      transport: rule?.route.transport ?? this.defaultTransport,
      channel: { name: rule?.route.channel ?? type, kind: channelKindOf(kind) },
    }
    this.cache[kind].set(type, destination)
    return destination
  }
}

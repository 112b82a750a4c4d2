import type { PubSub } from '@google-cloud/pubsub'
import type { Logger } from '@omnibus/core'
import {
  brokerName,
  type Channel,
  channelNotFound,
  KnownGroups,
  PromiseCache,
  type StartPosition,
} from '@omnibus/core/adapter'
import type { ResolvedGcpConfig } from './gcp-config.js'
import { gcpError, ifMissing, Status, statusOf } from './gcp-errors.js'

/**
 * A valid Pub/Sub resource name for `parts`, the same every time: names that
 * are already valid stay readable (`orders`, `orders~billing`); anything
 * changed to fit (characters outside [A-Za-z0-9._+-], a leading non-letter,
 * a `goog` start, a length outside 3..255) gets a short hash of the original
 * appended, so that two different inputs never meet. `~` only ever separates
 * channel from group, which keeps `a.b`+`c` and `a`+`b.c` apart.
 */
export function resourceName(prefix: string, parts: readonly string[]): string {
  const cleaned = parts.map((part) => part.replace(/[^A-Za-z0-9._+-]/g, '_'))
  let name = prefix + cleaned.join('~')
  let changed = cleaned.some((part, i) => part !== parts[i]) || name.length < 3
  if (!/^[A-Za-z]/.test(name) || name.toLowerCase().startsWith('goog')) {
    name = `c-${name}`
    changed = true
  }
  return brokerName(name, { maxLength: 255 }, { changed, hashOf: parts.join('\u0000') })
}

/** The topic of a channel. */
export function topicNameFor(prefix: string, channel: Channel): string {
  return resourceName(prefix, [channel.name])
}

/** A group's subscription; a queue has one, named like its topic (the two namespaces are apart). */
export function subscriptionNameFor(prefix: string, channel: Channel, group: string): string {
  if (channel.kind === 'queue') return topicNameFor(prefix, channel)
  return resourceName(prefix, [channel.name, group])
}

export interface SubscriptionSpec {
  readonly channel: Channel
  readonly group: string
  readonly temporary: boolean
}

/**
 * Creates topics and subscriptions on demand, idempotently (ALREADY_EXISTS is success), remembering
 * what exists so that the hot path makes no admin calls, and which groups this transport made or
 * declared per topic, to make them again should the broker forget them (a restart, a deletion).
 */
export class GcpProvisioner {
  private readonly topics = new PromiseCache<void>()
  private readonly subscriptions = new PromiseCache<void>()
  /** The groups made or declared per topic, by subscription name. */
  private readonly known = new KnownGroups<SubscriptionSpec>()
  private readonly recreating = new PromiseCache<void>(() => false)

  constructor(
    private readonly pubsub: PubSub,
    private readonly options: ResolvedGcpConfig,
    private readonly logger: Logger,
  ) {}

  topicName(channel: Channel): string {
    return topicNameFor(this.options.namePrefix, channel)
  }

  subscriptionName(channel: Channel, group: string): string {
    return subscriptionNameFor(this.options.namePrefix, channel, group)
  }

  /** Makes sure the topic exists; for a queue also its subscription, so that messages wait. */
  async ensureChannel(channel: Channel): Promise<void> {
    if (channel.kind === 'queue')
      return this.ensureSubscription({ channel, group: channel.name, temporary: false })
    return this.ensureTopic(channel)
  }

  async ensureTopic(channel: Channel): Promise<void> {
    const name = this.topicName(channel)
    return this.topics.get(name, () => this.createTopic(channel, name))
  }

  /**
   * Makes sure the group's subscription exists; a new one starts at `from` (seek on the retained
   * topic). With provisioning off it only checks: a missing one is CHANNEL_NOT_FOUND.
   */
  async ensureSubscription(spec: SubscriptionSpec, from?: StartPosition): Promise<void> {
    if (!this.options.provision) return this.assertSubscription(spec.channel, spec.group)
    const topic = this.topicName(spec.channel)
    const name = this.subscriptionName(spec.channel, spec.group)
    this.known.add(topic, name, spec)
    return this.subscriptions.get(name, () =>
      this.ensureTopic(spec.channel).then(() => this.make(spec, topic, name, from)),
    )
  }

  /** Whether this transport knows groups to re-create on `channel` should it vanish (a queue has its own). */
  knowsGroups(channel: Channel): boolean {
    return channel.kind === 'queue' || this.known.has(this.topicName(channel))
  }

  /**
   * The broker lost `channel` (NOT_FOUND): forget it and make it again, with every subscription
   * this transport made or declared on it, so that what is published from now on waits for
   * those groups again. Concurrent callers share one attempt.
   */
  recreate(channel: Channel): Promise<void> {
    const topic = this.topicName(channel)
    return this.recreating.get(topic, async () => {
      this.topics.forget(topic)
      const specs = this.known.of(topic)
      for (const spec of specs) this.subscriptions.forget(this.subscriptionName(spec.channel, spec.group))
      this.logger.warn('topic vanished (restart or deletion); re-creating it', {
        topic,
        groups: specs.length,
      })
      await this.ensureChannel(channel)
      await Promise.all(specs.map((spec) => this.ensureSubscription(spec)))
    })
  }

  /** After an outage: every group known on `channel` still has its subscription, else all are re-created. */
  async restore(channel: Channel): Promise<void> {
    const specs = this.known.of(this.topicName(channel))
    const present = await Promise.all(specs.map((spec) => this.subscriptionExists(spec.channel, spec.group)))
    if (present.includes(false)) await this.recreate(channel)
  }

  /** Forgets that the topic exists, so that the next ensure asks the broker again. */
  forget(channel: Channel): void {
    this.topics.forget(this.topicName(channel))
  }

  /** Whether the channel's topic exists with at least one subscription on it. */
  async hasSubscriptions(channel: Channel): Promise<boolean> {
    const topic = this.pubsub.topic(this.topicName(channel))
    const [subscriptions] = await topic.getSubscriptions({ gaxOpts: this.gax() }).catch(ifMissing([[]]))
    return subscriptions.length > 0
  }

  /** Whether the group's subscription exists (asked with the publish timeout, so an outage fails fast). */
  async subscriptionExists(channel: Channel, group: string): Promise<boolean> {
    const subscription = this.pubsub.subscription(this.subscriptionName(channel, group))
    return subscription.getMetadata(this.gax()).then(() => true, ifMissing(false))
  }

  /** Removes a temporary channel: its subscription, then its topic. Missing ones are fine. */
  async remove(channel: Channel, group: string): Promise<void> {
    const topic = this.topicName(channel)
    const name = this.subscriptionName(channel, group)
    this.known.remove(topic, name)
    this.subscriptions.forget(name)
    this.topics.forget(topic)
    await this.pubsub.subscription(name).delete(this.gax()).catch(ifMissing(undefined))
    await this.pubsub.topic(topic).delete(this.gax()).catch(ifMissing(undefined))
  }

  /** Throws CHANNEL_NOT_FOUND when provisioning is off and the subscription does not exist. */
  async assertSubscription(channel: Channel, group: string): Promise<void> {
    if (!(await this.subscriptionExists(channel, group))) {
      const what = `subscription ${this.subscriptionName(channel, group)} of channel "${channel.name}"`
      throw channelNotFound('gcp', `${what} in project ${this.pubsub.projectId}`, false)
    }
  }

  private gax() {
    return { timeout: this.options.publishTimeoutMs }
  }

  private async createTopic(channel: Channel, name: string): Promise<void> {
    // Topic retention is what lets a new subscription seek back in time (replay).
    const seconds = this.options.retentionSeconds
    const metadata = { name, ...(seconds > 0 ? { messageRetentionDuration: { seconds } } : {}) }
    try {
      await this.pubsub.createTopic(metadata, this.gax())
      this.logger.debug('topic created', { channel: channel.name, topic: name })
    } catch (error) {
      if (statusOf(error) === Status.ALREADY_EXISTS) return
      throw this.failed(`topic ${name}`, channel, error)
    }
  }

  /** Creates the subscription; a new one starts at `from` (an existing one keeps its position). */
  private async make(spec: SubscriptionSpec, topic: string, name: string, from?: StartPosition) {
    try {
      await this.pubsub.topic(topic).createSubscription(name, {
        enableMessageOrdering: this.options.ordering,
        // Durable groups never expire (Pub/Sub's default is 31 idle days);
        // a temporary one expires a day after its owner vanished without closing.
        expirationPolicy: spec.temporary ? { ttl: { seconds: 86_400 } } : {},
        gaxOpts: this.gax(),
      })
      this.logger.debug('subscription created', { channel: spec.channel.name, subscription: name })
    } catch (error) {
      if (statusOf(error) === Status.ALREADY_EXISTS) return
      throw this.failed(`subscription ${name}`, spec.channel, error)
    }
    if (from === undefined || from === 'latest') return
    if (this.options.retentionSeconds === 0) {
      const warning = 'replay asked for, but topic retention is off (retentionSeconds: 0); starting at latest'
      this.logger.warn(warning, { channel: spec.channel.name })
      return
    }
    const time = from === 'earliest' ? new Date(Date.now() - this.options.retentionSeconds * 1000) : from.time
    // (The emulator answers UNIMPLEMENTED for an ordered subscription: replay there needs ordering: false.)
    await this.seekTo(name, time).catch((error: unknown) => {
      throw this.failed(`seek of subscription ${name} to ${time.toISOString()}`, spec.channel, error)
    })
  }

  /**
   * Seeks with the exact time: the client's own seek(Date) (6.3.0) puts microseconds where nanoseconds
   * belong, which moves the time back to its whole second and replays up to a second too much.
   */
  private seekTo(name: string, time: Date): Promise<void> {
    const ms = time.getTime()
    const reqOpts = {
      subscription: this.pubsub.subscription(name).name,
      time: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 },
    }
    return new Promise((resolve, reject) => {
      this.pubsub.request(
        { client: 'SubscriberClient', method: 'seek', reqOpts, gaxOpts: this.gax() },
        (error) => (error ? reject(error) : resolve()),
      )
    })
  }

  private failed(what: string, channel: Channel, error: unknown) {
    return gcpError(
      'PROVISIONING_FAILED',
      `could not create ${what} for channel "${channel.name}" in project ${this.pubsub.projectId}. ` +
        'Check that Pub/Sub is reachable and the credentials may administer topics and subscriptions ' +
        '(roles/pubsub.editor), or create them yourself and set provision: false',
      error,
    )
  }
}

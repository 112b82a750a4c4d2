import { anyOption } from '../config/check.js'

/**
 * An option that turns a broker feature on per channel (SNS/SQS FIFO, RabbitMQ quorum queues):
 * true for every channel, false for none, a list of channel names, or (code only) a predicate.
 */
export type ChannelSwitch = boolean | readonly string[] | ((channel: string) => boolean)

const isSwitch = (v: unknown) =>
  typeof v === 'boolean' ||
  typeof v === 'function' ||
  (Array.isArray(v) && v.every((name) => typeof name === 'string'))

/** The spec of a ChannelSwitch option, for an adapter's OptionSpecs. */
export const channelSwitchOption = anyOption<ChannelSwitch>((v) =>
  isSwitch(v) ? undefined : 'must be true, false, a list of channel names or a function (channel) => boolean',
)

/** Whether `value` (default off) turns the feature on for `channel`. */
export function channelSwitch(value: ChannelSwitch = false): (channel: string) => boolean {
  if (typeof value === 'function') return value
  const names = new Set(Array.isArray(value) ? value : [])
  return (channel) => value === true || names.has(channel)
}

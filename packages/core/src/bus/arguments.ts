import { isDefinition } from '../catalog/define.js'
import { isDuration, MAX_DURATION_MS, shown } from '../config/check.js'
import { ArgumentError, EnvelopeError } from '../errors.js'

/**
 * Checks of what callers pass to the Bus's methods, so that a wrong argument fails
 * with an ArgumentError naming it, never with a TypeError from deep inside.
 */

export function checkType(type: unknown, argument = 'type'): void {
  if (isDefinition(type)) return
  if (typeof type !== 'string' || type.length === 0)
    throw new ArgumentError(
      argument,
      `must be a message type (a non-empty string) or a definition, got ${shown(type)}`,
    )
}

export function checkFunction(value: unknown, argument: string): void {
  if (typeof value !== 'function')
    throw new ArgumentError(argument, `must be a function, got ${shown(value)}`)
}

export function checkOptionsObject(value: unknown, argument = 'options'): void {
  if (value !== undefined && (value === null || typeof value !== 'object' || Array.isArray(value)))
    throw new ArgumentError(argument, `must be an object, got ${shown(value)}`)
}

export function checkDurationArgument(value: unknown, argument: string): void {
  if (value !== undefined && !isDuration(value))
    throw new ArgumentError(
      argument,
      `must be a duration in milliseconds, more than 0 and at most ${MAX_DURATION_MS}, got ${shown(value)}`,
    )
}

export function checkCount(value: unknown, argument: string): void {
  if (
    value !== undefined &&
    (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_DURATION_MS)
  )
    throw new ArgumentError(argument, `must be a whole number of 1 or more, got ${shown(value)}`)
}

export function checkName(value: unknown, argument: string): void {
  if (value !== undefined && (typeof value !== 'string' || value.length === 0))
    throw new ArgumentError(argument, `must be a non-empty string, got ${shown(value)}`)
}

/** What on/handle/answer accept as options. */
export function checkHandlerOptions(options: unknown): void {
  checkOptionsObject(options)
  const o = (options ?? {}) as Record<string, unknown>
  checkName(o.group, 'options.group')
  checkCount(o.maxInFlight, 'options.maxInFlight')
  checkDurationArgument(o.timeoutMs, 'options.timeoutMs')
  const from = o.from
  if (
    from !== undefined &&
    from !== 'latest' &&
    from !== 'earliest' &&
    !(
      typeof from === 'object' &&
      from !== null &&
      (from as { time?: unknown }).time instanceof Date &&
      !Number.isNaN((from as { time: Date }).time.getTime())
    )
  )
    throw new ArgumentError(
      'options.from',
      `must be 'latest', 'earliest' or { time: a valid Date }, got ${shown(from)}`,
    )
}

/**
 * A message to send: an object (an envelope input or a CloudEvent), or a list of
 * them. A wrong one is an EnvelopeError naming it (`input`, `input[1]`), as
 * createEnvelope names its fields.
 */
export function checkMessages(input: unknown, argument = 'input'): void {
  const list = Array.isArray(input) ? input : [input]
  list.forEach((one, i) => {
    if (one === null || typeof one !== 'object' || Array.isArray(one))
      throw new EnvelopeError(
        Array.isArray(input) ? `${argument}[${i}]` : argument,
        `must be a message (an object with at least a type), got ${shown(one)}`,
      )
  })
}

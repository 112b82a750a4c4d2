import { ConfigError } from '../errors.js'

/**
 * A small schema for option objects, shared by core's config and by adapters, so
 * that every option of every package fails the same way: at createBus, with a
 * ConfigError naming the key, and for an unknown key the nearest valid name.
 */
export type OptionSpec =
  | {
      readonly type: 'string'
      readonly required?: boolean
      readonly pattern?: RegExp
      readonly oneOf?: readonly string[]
    }
  | { readonly type: 'boolean'; readonly required?: boolean }
  /** A whole number in [min, max] (default [1, 2^31−1]); `infinity` also allows Infinity. */
  | {
      readonly type: 'integer'
      readonly required?: boolean
      readonly min?: number
      readonly max?: number
      readonly infinity?: boolean
    }
  /** Milliseconds: finite, more than 0, at most 2^31−1 (what a timer can wait). */
  | { readonly type: 'duration'; readonly required?: boolean }
  | { readonly type: 'strings'; readonly required?: boolean }
  | { readonly type: 'object'; readonly required?: boolean; readonly options?: OptionSpecs }
  /**
   * Any value, checked by `check` when given (it returns what is wrong, or undefined), else by the
   * caller (e.g. an object the program passes in, such as a client or a logger).
   */
  | { readonly type: 'any'; readonly required?: boolean; readonly check?: (v: unknown) => string | undefined }

export type OptionSpecs = Readonly<Record<string, OptionSpec>>

/** The type of the value `checkOptions` lets through for one spec (a `oneOf` string: the union of its names). */
export type OptionValue<S> = S extends { readonly oneOf: readonly (infer V)[] }
  ? V
  : S extends { readonly type: 'string' }
    ? string
    : S extends { readonly type: 'boolean' }
      ? boolean
      : S extends { readonly type: 'integer' | 'duration' }
        ? number
        : S extends { readonly type: 'strings' }
          ? string[]
          : S extends { readonly type: 'object' }
            ? Record<string, unknown>
            : S extends { readonly typed?: (v: infer T) => void }
              ? T
              : unknown

/**
 * The options object `specs` describe, every key optional: an adapter's options type read off its
 * specs (declared `as const satisfies OptionSpecs`), so the two cannot drift, with the specs' doc
 * comments. Keys of type `any` come out `unknown`, or `T` when declared with `anyOption<T>`.
 */
export type OptionValues<S> = { -readonly [K in keyof S]?: OptionValue<S[K]> }

/** An `any` option whose value, once `check` let it through, is a `T`: OptionValues reads `T` off it. */
export interface AnyOption<T> {
  readonly type: 'any'
  readonly check?: (v: unknown) => string | undefined
  /** Never set: carries `T` for OptionValues. */
  readonly typed?: (v: T) => void
}

export const anyOption = <T>(check?: (v: unknown) => string | undefined): AnyOption<T> =>
  check ? { type: 'any', check } : { type: 'any' }

/** The longest a Node timer can wait; longer delays fire at once (TimeoutOverflowWarning). */
export const MAX_DURATION_MS = 2 ** 31 - 1

/**
 * Values that came from environment variables, as text, by the object holding them:
 * they take the type their key expects (see checkOptions).
 */
const texts = new WeakMap<object, Set<string>>()

/** Marks `holder[key]` as environment text, to be read as the type its key expects. */
export function markText(holder: object, key: string): void {
  const keys = texts.get(holder) ?? new Set<string>()
  texts.set(holder, keys)
  keys.add(key)
}

/** Whether `holder[key]` is environment text (see markText). */
export const isText = (holder: object, key: string): boolean => texts.get(holder)?.has(key) === true

export const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v)

/** JSON text where it parses, the text itself otherwise (for values whose type is unknown). */
export function guessText(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/**
 * Checks `value` against `specs` and returns a copy with environment text turned
 * into the types the keys expect. Throws a ConfigError naming `keyPrefix.key` for
 * an unknown key (with the nearest valid name), a missing required one, or a
 * value of the wrong type or range.
 */
export function checkOptions(specs: OptionSpecs, value: unknown, keyPrefix: string): Record<string, unknown> {
  const where = (key: string) => (keyPrefix ? `${keyPrefix}.${key}` : key)
  if (!isObject(value)) throw new ConfigError(keyPrefix || '(root)', `must be an object, got ${shown(value)}`)
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(value)) {
    const spec = specs[key]
    if (!spec) throw new ConfigError(where(key), unknownKey(key, Object.keys(specs)))
    let v = value[key]
    if (v === undefined) continue
    if (isText(value, key) && typeof v === 'string') v = fromText(spec, v, where(key))
    out[key] = checkValue(spec, v, where(key))
  }
  for (const [key, spec] of Object.entries(specs)) {
    if (spec.required && value[key] === undefined) throw new ConfigError(where(key), 'is required')
  }
  return out
}

function checkValue(spec: OptionSpec, v: unknown, key: string): unknown {
  switch (spec.type) {
    case 'string':
      if (typeof v !== 'string' || v === '')
        throw new ConfigError(key, `must be a non-empty string, got ${shown(v)}`)
      if (spec.oneOf && !spec.oneOf.includes(v))
        throw new ConfigError(key, `must be one of ${spec.oneOf.join(', ')}, got ${shown(v)}`)
      if (spec.pattern && !spec.pattern.test(v))
        throw new ConfigError(key, `must match ${spec.pattern}, got ${shown(v)}`)
      return v
    case 'boolean':
      if (typeof v !== 'boolean') throw new ConfigError(key, `must be true or false, got ${shown(v)}`)
      return v
    case 'integer': {
      const min = spec.min ?? 1
      const max = spec.max ?? MAX_DURATION_MS
      if (spec.infinity && v === Number.POSITIVE_INFINITY) return v
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
        throw new ConfigError(
          key,
          `must be a whole number from ${min} to ${max}${spec.infinity ? ' or Infinity' : ''}, got ${shown(v)}`,
        )
      return v
    }
    case 'duration':
      checkDuration(v, key)
      return v
    case 'strings':
      if (!Array.isArray(v) || v.length === 0 || !v.every((s) => typeof s === 'string' && s !== ''))
        throw new ConfigError(key, `must be a non-empty list of non-empty strings, got ${shown(v)}`)
      return v
    case 'object':
      if (!isObject(v)) throw new ConfigError(key, `must be an object, got ${shown(v)}`)
      return spec.options ? checkOptions(spec.options, v, key) : v
    case 'any': {
      const wrong = spec.check?.(v)
      if (wrong !== undefined) throw new ConfigError(key, `${wrong}, got ${shown(v)}`)
      return v
    }
  }
}

/** Throws a ConfigError naming `key` unless `v` is a usable duration in ms. */
export function checkDuration(v: unknown, key: string): asserts v is number {
  if (!isDuration(v)) {
    throw new ConfigError(
      key,
      `must be a duration in milliseconds, more than 0 and at most ${MAX_DURATION_MS} (about 24.8 days), got ${shown(v)}`,
    )
  }
}

export const isDuration = (v: unknown): v is number =>
  typeof v === 'number' && Number.isFinite(v) && v > 0 && v <= MAX_DURATION_MS

/** Environment text read as the type `spec` expects; a string key keeps its text. */
export function fromText(spec: OptionSpec, text: string, key: string): unknown {
  switch (spec.type) {
    case 'string':
      return text
    case 'boolean':
      if (text === 'true' || text === 'false') return text === 'true'
      throw new ConfigError(key, `must be true or false, got ${shown(text)}`)
    case 'integer':
    case 'duration': {
      const trimmed = text.trim()
      if (spec.type === 'integer' && spec.infinity && trimmed === 'Infinity') return Number.POSITIVE_INFINITY
      if (!/^-?\d+(\.\d+)?$/.test(trimmed)) throw new ConfigError(key, `must be a number, got ${shown(text)}`)
      return Number(trimmed)
    }
    case 'strings':
      // A JSON list, or a comma-separated one.
      if (text.trimStart().startsWith('[')) return guessText(text)
      return text.split(',').map((s) => s.trim())
    case 'object':
      return guessText(text)
    case 'any':
      return guessText(text)
  }
}

function unknownKey(key: string, valid: readonly string[]): string {
  const near = nearest(key, valid)
  const hint = near ? `did you mean "${near}"?` : `valid keys: ${valid.join(', ') || 'none'}`
  return `is not a known option; ${hint}`
}

/** The valid name closest to `key` by edit distance, if it is close enough to be a typo. */
export function nearest(key: string, valid: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  for (const name of valid) {
    const d = distance(key.toLowerCase(), name.toLowerCase())
    if (d < bestDistance) {
      best = name
      bestDistance = d
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined
}

function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = row
  }
  return previous[b.length]!
}

/** A value as an error message shows it. */
export function shown(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v)
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v)
  if (typeof v === 'bigint') return `${v}n`
  if (Array.isArray(v)) return 'a list'
  if (typeof v === 'function') return 'a function'
  return `a ${typeof v}`
}

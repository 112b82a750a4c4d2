import { type AnyOption, anyOption } from '../config/check.js'

/**
 * The spec of a credentials option given as an object whose `fields` all hold strings (an access
 * key pair, a service-account key), typed `T`; `shape` says what it must look like, and is the
 * error's text when it does not (the values themselves are never shown).
 */
export function credentialsOption<T>(fields: readonly (keyof T & string)[], shape: string): AnyOption<T> {
  const fits = (v: unknown) =>
    typeof v === 'object' &&
    v !== null &&
    fields.every((f) => typeof (v as Record<string, unknown>)[f] === 'string')
  return anyOption<T>((v) => (fits(v) ? undefined : `must be ${shape}`))
}

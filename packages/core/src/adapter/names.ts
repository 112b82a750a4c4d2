import { createHash } from 'node:crypto'

/** The first `length` hex digits of the SHA-256 of `text`. */
export function shortHash(text: string, length = 8): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, length)
}

export interface NameRule {
  /** Characters the broker does not allow (a global RegExp); each becomes `_`. */
  readonly invalid?: RegExp
  readonly maxLength: number
  /** Default 8. */
  readonly hashLength?: number
}

/**
 * Maps an Omnibus name onto a broker's naming rules, the same in every process. A name that
 * already fits stays readable; one that had to change (characters replaced, cut to length, or
 * `changed` for a rule the caller checked) ends in `-<hash of the original>`, so two different
 * names never meet on one broker resource. `hashOf` hashes something else than `name` (the
 * unjoined parts of a composite name).
 */
export function brokerName(
  name: string,
  rule: NameRule,
  options: { changed?: boolean; hashOf?: string } = {},
): string {
  const clean = rule.invalid ? name.replace(rule.invalid, '_') : name
  if (clean === name && clean.length <= rule.maxLength && !options.changed) return clean
  const hash = shortHash(options.hashOf ?? name, rule.hashLength ?? 8)
  return `${clean.slice(0, rule.maxLength - hash.length - 1)}-${hash}`
}

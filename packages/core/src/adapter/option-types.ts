import type { OptionSpecs } from '../config/check.js'

/**
 * Option types read off the specs that check them, so that an adapter declares each option once:
 * its spec, with its doc comment, in `<broker>-options.ts` (`as const satisfies OptionSpecs`, so the
 * keys and `oneOf` lists stay known), and its options interface extends `OptionValues<typeof specs>`,
 * typing only its `any` options itself.
 */

/** The TypeScript type of what a spec accepts: a `oneOf` list's names, a number for an integer or duration. */
export type OptionValue<S> = S extends { readonly oneOf: readonly (infer V)[] }
  ? V
  : S extends { readonly type: infer T }
    ? T extends 'string'
      ? string
      : T extends 'boolean'
        ? boolean
        : T extends 'integer' | 'duration'
          ? number
          : T extends 'strings'
            ? string[]
            : T extends 'object'
              ? Record<string, unknown>
              : unknown
    : unknown

/** Every option of `S`, optional, typed by its spec; each keeps its doc comment. */
export type OptionValues<S extends OptionSpecs> = { -readonly [K in keyof S]?: OptionValue<S[K]> }

import type { z } from 'zod';
import { SlipwayError } from '../core/errors.js';
import { githubProvider } from './github/index.js';
import { gitlabProvider } from './gitlab/index.js';
import type { Forge, ForgeCommonOptions, ForgeOptions, ForgeProvider } from './types.js';

/**
 * Forge id → provider (renovate's `platform/api.ts` Map, without its module-level `config`): forges are
 * instances, each holding only its own options. Each provider's folder declares its words (`terms`), its
 * configuration section and its factory, so a new forge is its folder and one line here: the id type, the
 * config schema's sections, the repository pattern of `apps[].repo`, the secrets to redact, the webhook
 * routes and the composition root's wiring all come from this object. It is never mutated.
 */
const PROVIDERS = {
  github: githubProvider,
  gitlab: gitlabProvider,
} as const;

/** A registered forge's id: a string-literal union derived from the registry, so a typo is a compile error. */
export type ForgeId = keyof typeof PROVIDERS;

/** Each forge's config section schema under its id (what `src/config/schema.ts` puts at the top level). */
export type ForgeSections = { readonly [K in ForgeId]: (typeof PROVIDERS)[K]['config'] };

/** A configuration's section of each forge, as parsed. */
export type ForgeConfig = { [K in ForgeId]: z.output<ForgeSections[K]> };

/** The provider of `id`, with its own section type erased (callers hold a section of the same id). */
const provider = (id: ForgeId): ForgeProvider<never> => PROVIDERS[id] as unknown as ForgeProvider<never>;

/** Ids Slipway can receive webhooks from, in registration order. */
export function forgeIds(): ForgeId[] {
  return Object.keys(PROVIDERS) as ForgeId[];
}

/** The registered provider of `id`, for the terms lookup (terms.ts); undefined for an unknown id. */
export const providerOf = (id: string): Pick<ForgeProvider, 'terms' | 'repoExample' | 'secretKeys'> | undefined =>
  Object.hasOwn(PROVIDERS, id) ? PROVIDERS[id as ForgeId] : undefined;

/** Every forge's config section, keyed by its id. */
export function forgeSections(): ForgeSections {
  return Object.fromEntries(forgeIds().map((id) => [id, PROVIDERS[id].config])) as unknown as ForgeSections;
}

/** Throws `SLW_CONFIG_INVALID` for an id no factory is registered for (ids come from config at runtime). */
export function createForge(id: ForgeId, options: ForgeOptions): Forge {
  if (!Object.hasOwn(PROVIDERS, id)) {
    throw new SlipwayError(
      'SLW_CONFIG_INVALID',
      `unknown forge "${String(id)}": use one of ${forgeIds()
        .map((f) => `"${f}"`)
        .join(', ')}`,
      { details: { forge: String(id) } },
    );
  }
  return provider(id).create(options);
}

/** A forge made from its own config section: how the composition root makes every registered forge. */
export function configuredForge<K extends ForgeId>(id: K, section: ForgeConfig[K], common: ForgeCommonOptions): Forge {
  const p = provider(id);
  return createForge(id, p.options(section as never, common));
}

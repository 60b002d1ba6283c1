import { SlipwayError } from '../core/errors.js';
import type { ForgeId } from '../core/types.js';
import { githubProvider } from './github/index.js';
import { gitlabProvider } from './gitlab/index.js';
import type { Forge, ForgeOptions, ForgeProvider } from './types.js';

/**
 * Forge id → provider (renovate's `platform/api.ts` Map, without its module-level `config`): forges are
 * instances, each holding only its own options; each provider's folder declares its words (`terms`) and
 * its factory, so a new forge is its folder and one line here. `satisfies Record<ForgeId, …>` makes a new
 * ForgeId without a provider a compile error; the Map is never mutated.
 */
const PROVIDERS: ReadonlyMap<ForgeId, ForgeProvider> = new Map(
  Object.entries({
    github: githubProvider,
    gitlab: gitlabProvider,
  } satisfies Record<ForgeId, ForgeProvider>) as [ForgeId, ForgeProvider][],
);

/** Ids Slipway can receive webhooks from, in registration order. */
export function forgeIds(): ForgeId[] {
  return [...PROVIDERS.keys()];
}

/** The registered provider of `id`, for the terms lookup (terms.ts); undefined for an unknown id. */
export const providerOf = (id: string): ForgeProvider | undefined => PROVIDERS.get(id as ForgeId);

/** Throws `SLW_CONFIG_INVALID` for an id no factory is registered for (ids come from config at runtime). */
export function createForge(id: ForgeId, options: ForgeOptions): Forge {
  const provider = PROVIDERS.get(id);
  if (provider === undefined) {
    throw new SlipwayError(
      'SLW_CONFIG_INVALID',
      `unknown forge "${String(id)}": use one of ${forgeIds()
        .map((f) => `"${f}"`)
        .join(', ')}`,
      { details: { forge: String(id) } },
    );
  }
  return provider.create(options);
}

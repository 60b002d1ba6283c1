import { SlipwayError } from '../core/errors.js';
import type { ForgeId } from '../core/types.js';
import { createGithubForge } from './github/index.js';
import { createGitlabForge } from './gitlab/index.js';
import type { Forge, ForgeFactory, ForgeOptions } from './types.js';

/**
 * Forge id → factory (renovate's `platform/api.ts` Map, without its module-level `config`): forges are
 * instances, each holding only its own options. `satisfies Record<ForgeId, …>` makes a new ForgeId
 * without a factory a compile error; the Map is never mutated.
 */
const FACTORIES: ReadonlyMap<ForgeId, ForgeFactory> = new Map(
  Object.entries({
    github: createGithubForge,
    gitlab: createGitlabForge,
  } satisfies Record<ForgeId, ForgeFactory>) as [ForgeId, ForgeFactory][],
);

/** Ids Slipway can receive webhooks from, in registration order. */
export function forgeIds(): ForgeId[] {
  return [...FACTORIES.keys()];
}

/** Throws `SLW_CONFIG_INVALID` for an id no factory is registered for (ids come from config at runtime). */
export function createForge(id: ForgeId, options: ForgeOptions): Forge {
  const factory = FACTORIES.get(id);
  if (factory === undefined) {
    throw new SlipwayError(
      'SLW_CONFIG_INVALID',
      `unknown forge "${String(id)}": use one of ${forgeIds().map((f) => `"${f}"`).join(', ')}`,
      { details: { forge: String(id) } },
    );
  }
  return factory(options);
}

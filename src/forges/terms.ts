import type { ForgeId } from '../core/types.js';
import { githubTerms } from './github/terms.js';
import { gitlabTerms } from './gitlab/terms.js';
import type { ForgeTerms } from './terms-type.js';

export type { ForgeTerms } from './terms-type.js';

/**
 * Each forge's words, for code that has a forge id (a stored build, a queued job) but no Forge instance.
 * Pure data: importing it opens no client. `satisfies Record<ForgeId, …>` makes a new ForgeId without
 * terms a compile error.
 */
const TERMS = { github: githubTerms, gitlab: gitlabTerms } as const satisfies Record<ForgeId, ForgeTerms>;

/** Every forge id, in registration order (zod enums, validation of stored and queued values). */
export const FORGE_IDS = Object.keys(TERMS) as [ForgeId, ...ForgeId[]];

export const isForgeId = (value: string | null | undefined): value is ForgeId => typeof value === 'string' && Object.hasOwn(TERMS, value);

export const forgeTerms = (forge: ForgeId): ForgeTerms => TERMS[forge];

/**
 * `pull request #12`, `merge request !12`. A value that is not a forge id (a build that came from no
 * forge but names a number) reads as a pull request, the generic word.
 */
export function changeRequestLabel(forge: string | null | undefined, number: number | string): string {
  const terms = isForgeId(forge) ? TERMS[forge] : githubTerms;
  return `${terms.changeRequestName} ${terms.changeRequestSymbol}${number}`;
}

/** `pull request`, `merge request`; the generic word for a value that is not a forge id. */
export const changeRequestName = (forge: string | null | undefined): string => (isForgeId(forge) ? TERMS[forge] : githubTerms).changeRequestName;

/** The serving tag of a change request's preview: `pr-12`, `mr-12`. */
export function previewTag(forge: string | null | undefined, number: number): string {
  const terms = isForgeId(forge) ? TERMS[forge] : githubTerms;
  return `${terms.previewTagPrefix}-${number}`;
}

/** The number behind a preview tag of this forge, or undefined when the tag is not one. */
export function previewNumber(forge: ForgeId, tag: string): number | undefined {
  const prefix = `${TERMS[forge].previewTagPrefix}-`;
  if (!tag.startsWith(prefix)) return undefined;
  const rest = tag.slice(prefix.length);
  return /^[0-9]+$/.test(rest) ? Number(rest) : undefined;
}

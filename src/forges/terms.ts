import type { ForgeId } from './registry.js';
import { forgeIds, providerOf } from './registry.js';
import type { ForgeTerms } from './terms-type.js';

export type { ForgeTerms } from './terms-type.js';

/**
 * Each forge's words (declared by its provider, `<forge>/terms.ts`), for code that has a forge id (a
 * stored build, a queued job, a config entry) but no Forge instance at hand.
 */

/** Every forge id, in registration order (zod enums, validation of stored and queued values). */
export const FORGE_IDS = forgeIds() as [ForgeId, ...ForgeId[]];

/** Whether `value` names a registered forge (stored and queued values are checked with it). */
export const isForgeId = (value: string | null | undefined): value is ForgeId => typeof value === 'string' && providerOf(value) !== undefined;

export const forgeTerms = (forge: ForgeId): ForgeTerms => providerOf(forge)!.terms;

/** The words for a value that is not a forge id: a build from no forge that names a number reads as a pull request. */
const GENERIC: ForgeTerms = {
  displayName: 'the forge',
  eventHeader: '',
  changeRequestName: 'pull request',
  changeRequestSymbol: '#',
  previewTagPrefix: 'pr',
  tokenUser: 'x-access-token',
  sourceCredentials: "the forge's token",
  retiresByHandle: true,
};

/** A forge's terms, or generic words when the build came from no forge (an upload). */
export const forgeTermsOf = (forge: string | null | undefined): ForgeTerms => (isForgeId(forge) ? forgeTerms(forge) : GENERIC);

/** `pull request #12`, `merge request !12`. */
export function changeRequestLabel(forge: string | null | undefined, number: number | string): string {
  const terms = forgeTermsOf(forge);
  return `${terms.changeRequestName} ${terms.changeRequestSymbol}${number}`;
}

/** `pull request`, `merge request`. */
export const changeRequestName = (forge: string | null | undefined): string => forgeTermsOf(forge).changeRequestName;

/** The serving tag of a change request's preview: `pr-12`, `mr-12` (docs/architecture.md). */
export const previewTag = (forge: string | null | undefined, number: number): string => `${forgeTermsOf(forge).previewTagPrefix}-${number}`;

/** The number behind a preview tag of this forge, or undefined when the tag is not one. */
export function previewNumber(forge: ForgeId, tag: string): number | undefined {
  const prefix = `${forgeTerms(forge).previewTagPrefix}-`;
  if (!tag.startsWith(prefix)) return undefined;
  const rest = tag.slice(prefix.length);
  return /^[0-9]+$/.test(rest) ? Number(rest) : undefined;
}

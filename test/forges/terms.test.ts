import { describe, expect, it } from 'vitest';
import { createForge, forgeIds } from '../../src/forges/registry.js';
import { changeRequestLabel, changeRequestName, FORGE_IDS, forgeTerms, isForgeId, previewNumber, previewTag } from '../../src/forges/terms.js';

describe('forge terms: each provider declares its words, everything else asks', () => {
  it('knows the same forges as the registry, and each Forge carries the terms the lookup gives', () => {
    expect(FORGE_IDS).toEqual(forgeIds());
    for (const id of forgeIds()) expect(createForge(id, { secret: 's' }).terms).toBe(forgeTerms(id));
  });

  it("names change requests and their previews in each forge's words", () => {
    expect(changeRequestLabel('github', 12)).toBe('pull request #12');
    expect(changeRequestLabel('gitlab', 12)).toBe('merge request !12');
    expect(changeRequestName('gitlab')).toBe('merge request');
    expect(previewTag('github', 12)).toBe('pr-12');
    expect(previewTag('gitlab', 12)).toBe('mr-12');
    expect(forgeTerms('github').eventHeader).toBe('x-github-event');
    expect(forgeTerms('gitlab').eventHeader).toBe('x-gitlab-event');
  });

  it('reads back only its own preview tags', () => {
    expect(previewNumber('gitlab', 'mr-7')).toBe(7);
    expect(previewNumber('gitlab', 'pr-7')).toBeUndefined();
    expect(previewNumber('github', 'pr-7x')).toBeUndefined();
    expect(previewNumber('github', 'canary')).toBeUndefined();
  });

  it('treats values that are not forge ids as none (stored and queued values are checked)', () => {
    expect(isForgeId('github')).toBe(true);
    expect(isForgeId('toString')).toBe(false);
    expect(isForgeId(null)).toBe(false);
    // A build from no forge that names a number reads in the generic words.
    expect(changeRequestLabel(null, 3)).toBe('pull request #3');
  });
});

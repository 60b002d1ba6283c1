import { describe, expect, it } from 'vitest';
import { formatScope, parseScope, uploadScope, type BuildScope } from '../../src/core/scope.js';

describe('build scope: one format/parse pair over the stored strings', () => {
  // The stored spelling is what existing rows hold: it must not change (no migration).
  const cases: [BuildScope, string][] = [
    [{ kind: 'branch', branch: 'main' }, 'branch:main'],
    [{ kind: 'branch', branch: 'feature/a:b' }, 'branch:feature/a:b'],
    [{ kind: 'tag', tag: 'v1.2.0' }, 'tag:v1.2.0'],
    [{ kind: 'change-request', number: 12 }, 'pr:12'],
    [{ kind: 'deploy-tag', tag: 'rc' }, 'deploy-tag:rc'],
    [{ kind: 'upload', ref: 'refs/tags/v1' }, 'upload:refs/tags/v1'],
    [{ kind: 'upload' }, 'upload'],
    [{ kind: 'image' }, 'image'],
  ];

  it.each(cases)('%j is stored as %s and reads back the same', (scope, stored) => {
    expect(formatScope(scope)).toBe(stored);
    expect(parseScope(stored)).toEqual(scope.kind === 'upload' && scope.ref === undefined ? { kind: 'upload' } : scope);
  });

  it.each(['', 'pr:', 'pr:x', 'pr:-1', 'unknown:1', 'branch'])('reads %j as no scope', (stored) => {
    expect(parseScope(stored)).toBeUndefined();
  });

  it('groups an upload by its deploy tag, else its branch, else its ref', () => {
    expect(formatScope(uploadScope('refs/heads/main', 'rc'))).toBe('deploy-tag:rc');
    expect(formatScope(uploadScope('refs/heads/main', undefined))).toBe('branch:main');
    expect(formatScope(uploadScope('refs/tags/v1', undefined))).toBe('upload:refs/tags/v1');
    expect(formatScope(uploadScope(undefined, undefined))).toBe('upload');
  });
});

import { describe, expect, it } from 'vitest';
import { PathMatcher } from '../../src/buildkit/index.js';

/**
 * Cases follow moby/patternmatcher's semantics (the matcher behind .dockerignore and fsutil's
 * include/exclude patterns), including the edges its exact/prefix/suffix shortcuts produce.
 */
describe('PathMatcher (moby/patternmatcher semantics)', () => {
  it.each([
    // [patterns, path, matches]
    [['a.txt'], 'a.txt', true],
    [['a.txt'], 'dir/a.txt', false],
    [['*.txt'], 'a.txt', true],
    [['*.txt'], 'dir/a.txt', false],
    [['*/*.txt'], 'dir/a.txt', true],
    [['**/*.txt'], 'dir/sub/a.txt', true],
    [['**/*.txt'], 'a.txt', true],
    [['dir'], 'dir/sub/a.txt', true],
    [['dir/'], 'dir/a', true],
    [['./dir/../dir/a'], 'dir/a', true],
    [['dir/**'], 'dir/x/y', true],
    [['dir/**'], 'dirx', false],
    [['**'], 'anything/at/all', true],
    [['**foo'], 'barfoo', true],
    [['a?c'], 'abc', true],
    [['a?c'], 'a/c', false],
    [['[a-c].md'], 'b.md', true],
    [['[^a-c].md'], 'b.md', false],
    [['[^a-c].md'], 'd.md', true],
    [['a\\*b'], 'a*b', true],
    [['a\\*b'], 'axb', false],
    [['file.(x)'], 'file.(x)', true],
    [['*.log', '!keep.log'], 'keep.log', false],
    [['*.log', '!keep.log'], 'drop.log', true],
    [['*.log', '!keep.log', 'keep.log'], 'keep.log', true],
    [['node_modules', '!node_modules/pkg'], 'node_modules/pkg/index.js', false],
    [['node_modules', '!node_modules/pkg'], 'node_modules/other/index.js', true],
    [['  spaced.txt  '], 'spaced.txt', true],
    [[''], 'x', false],
  ] as [string[], string, boolean][])('%j matches %s: %s', (patterns, path, expected) => {
    expect(new PathMatcher(patterns).matches(path)).toBe(expected);
  });

  it('rejects a lone "!"', () => {
    expect(() => new PathMatcher(['!'])).toThrow(/illegal exclusion pattern/);
  });

  it('tells when a directory that does not match may still hold matches', () => {
    const includes = new PathMatcher(['sub/Dockerfile']);
    expect(includes.mayMatchInside('sub', false)).toBe(true);
    expect(includes.mayMatchInside('other', false)).toBe(false);
    const excludes = new PathMatcher(['vendor', '!vendor/keep']);
    expect(excludes.mayMatchInside('vendor', true)).toBe(true);
    expect(excludes.mayMatchInside('node_modules', true)).toBe(false);
  });
});

import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, linkSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { walkContext } from '../../src/buildkit/index.js';

const GO_DIR = 2 ** 31;
const GO_SYMLINK = 2 ** 27;

describe('walkContext (fsutil sender order and filters)', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function tree(files: Record<string, string>): string {
    const root = mkdtempSync(join(tmpdir(), 'slipway-walk-'));
    dirs.push(root);
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), content);
    }
    return root;
  }

  it('lists parents first and entries sorted by their bytes, as Go walks', async () => {
    const root = tree({ 'b.txt': 'b', 'a/z': 'z', 'a.txt': 'a', 'a/b/c': 'c', B: 'B', é: 'e' });
    const paths = (await walkContext(root)).map((e) => e.stat.path);
    // "B" (0x42) sorts before lower case; "a" before "a.txt" because "a" is a prefix; é (0xc3…) last.
    expect(paths).toEqual(['B', 'a', 'a/b', 'a/b/c', 'a/z', 'a.txt', 'b.txt', 'é']);
  });

  it('encodes Go file modes, sizes, nanosecond times, symlinks and hard links', async () => {
    const root = tree({ 'run.sh': '#!/bin/sh\n', 'dir/f': 'data' });
    chmodSync(join(root, 'run.sh'), 0o755);
    symlinkSync('run.sh', join(root, 'link'));
    linkSync(join(root, 'dir/f'), join(root, 'hard'));
    const byPath = new Map((await walkContext(root)).map((e) => [e.stat.path, e]));
    expect(byPath.get('dir')!.stat.mode).toBe(GO_DIR + 0o755);
    expect(byPath.get('dir')!.regular).toBe(false);
    expect(byPath.get('run.sh')!.stat).toMatchObject({ mode: 0o755, size: 10, linkname: '' });
    expect(byPath.get('run.sh')!.regular).toBe(true);
    expect(byPath.get('link')!.stat).toMatchObject({ mode: GO_SYMLINK + 0o777, linkname: 'run.sh' });
    expect(byPath.get('link')!.regular).toBe(false);
    // dir/f is walked first, so the later path of the same inode names it.
    expect(byPath.get('hard')!.stat.linkname).toBe('dir/f');
    const t = byPath.get('run.sh')!.stat.modTime;
    const ns = (BigInt(t.high) << 32n) + BigInt(t.low);
    expect(ns).toBeGreaterThan(1_600_000_000n * 1_000_000_000n);
  });

  it('applies exclude patterns with exceptions, sending a parent only when something inside is kept', async () => {
    const root = tree({ 'keep.txt': 'k', 'x.log': 'l', 'node_modules/a/i.js': '', 'vendor/drop': '', 'vendor/keep/k': '', Dockerfile: '' });
    const paths = (await walkContext(root, { exclude: ['*.log', 'node_modules', 'vendor', '!vendor/keep'] })).map((e) => e.stat.path);
    expect(paths).toEqual(['Dockerfile', 'keep.txt', 'vendor', 'vendor/keep', 'vendor/keep/k']);
  });

  it('applies include patterns (how the frontend asks for the Dockerfile alone)', async () => {
    const root = tree({ Dockerfile: '', 'Dockerfile.dockerignore': '', 'src/a': '', 'sub/Dockerfile': '' });
    expect((await walkContext(root, { include: ['Dockerfile', 'Dockerfile.dockerignore'] })).map((e) => e.stat.path)).toEqual([
      'Dockerfile',
      'Dockerfile.dockerignore',
    ]);
    expect((await walkContext(root, { include: ['sub/Dockerfile'] })).map((e) => e.stat.path)).toEqual(['sub', 'sub/Dockerfile']);
  });

  it('takes followpaths as includes, following a symlinked Dockerfile to its target (BuildKit 0.8 frontend)', async () => {
    const root = tree({ 'docker/Dockerfile.real': 'FROM scratch', 'src/a': '' });
    symlinkSync('docker/Dockerfile.real', join(root, 'Dockerfile'));
    const paths = (await walkContext(root, { followPaths: ['Dockerfile', 'Dockerfile.dockerignore'] })).map((e) => e.stat.path);
    expect(paths).toEqual(['Dockerfile', 'docker', 'docker/Dockerfile.real']);
    // Following the root filters nothing.
    expect(await walkContext(root, { followPaths: ['.'] })).toHaveLength(5);
  });
});

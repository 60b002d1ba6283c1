import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSlipwayError } from '../../src/core/errors.js';
import { injectEnforcer, LayerScanCache, SCAN_CACHE_VERSION, type InjectProgress } from '../../src/injection/index.js';
import { RegistryClient } from '../../src/registry/index.js';
import { SHARED_REGISTRY, uniqueRepo } from '../helpers/registry.js';
import { enforcerArtifacts } from './docker.js';
import { ELF, layerTar, pushImage, slipwayFiles, type PushedImage } from './layers.js';

/**
 * The layer scan cache only saves work: an injection that replays cached layers must push
 * exactly the image a full scan pushes, must not fetch the layers it replays, and must fall back to
 * reading a layer whenever an entry is not trustworthy.
 */

/** A real client that also records which blobs it was asked for: the proof that a layer was not downloaded. */
class CountingClient extends RegistryClient {
  readonly fetched: string[] = [];
  override async getBlob(repo: string, digest: string, opts: { size?: number; signal?: AbortSignal } = {}): Promise<Readable> {
    this.fetched.push(digest);
    return super.getBlob(repo, digest, opts);
  }
}

const plain = new RegistryClient({ host: SHARED_REGISTRY });
const counting = () => new CountingClient({ host: SHARED_REGISTRY });
const target = () => `${SHARED_REGISTRY}/${uniqueRepo('cached')}:injected`;
const repoOf = (ref: string) => ref.slice(SHARED_REGISTRY.length + 1).replace(/[@:].*$/, '');
const dirs: string[] = [];
const cacheDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-scan-cache-'));
  dirs.push(dir);
  return dir;
};
const entryFiles = (dir: string) => {
  const d = join(dir, `layer-scan-v${SCAN_CACHE_VERSION}`);
  // Not the temporary files of writers, nor the pruning marker.
  return existsSync(d) ? readdirSync(d).filter((f) => !f.endsWith('.tmp') && !f.startsWith('.')).map((f) => join(d, f)) : [];
};

async function layerDigests(image: PushedImage): Promise<string[]> {
  const m = (await plain.getManifest(image.repo, image.digest)).json as { layers: { digest: string }[] };
  return m.layers.map((l) => l.digest);
}

async function manifestLines(ref: string, digest: string): Promise<string[]> {
  const files = await slipwayFiles(plain, repoOf(ref), digest);
  return files.get('.slipway/manifest')!.toString('latin1').split('\n').filter((l) => l && !l.startsWith('#'));
}

// Each tar is made once: GNU tar stamps mtimes, so only the same Buffer gives the same layer digest.
const base1 = layerTar({
  'bin/tool': { data: '#!/bin/sh\necho v1\n', mode: 0o755 },
  'bin/hard': { hardlink: 'bin/tool' },
  'bin/sh': { symlink: 'tool' },
  'etc/data': { data: 'not executable' },
  'lib/libx.so': { data: ELF, mode: 0o644 },
  'usr/bin/old': { data: 'old', mode: 0o755 },
  'usr/bin/keep': { data: 'keep', mode: 0o710 },
  'opt/dir/a': { data: 'a', mode: 0o755 },
  'opt/dir/sub/b': { data: 'b', mode: 0o700 },
  x: { data: 'x was a file', mode: 0o755 },
});
// Another base under the same shared layer: the shared layer's whiteouts must hit different lower files.
const base2 = layerTar({
  'usr/bin/old': { dir: true },
  'usr/bin/old/inside': { data: 'inside', mode: 0o755 },
  'opt/dir/z': { data: 'z', mode: 0o755 },
  'bin/tool': { data: 'base2 tool', mode: 0o755 },
  'lib/libx.so': { data: 'not elf', mode: 0o755 },
  'srv/setuid': { data: 'suid', mode: 0o4755 },
});
// The shared layer: whiteouts, an opaque directory, a file replaced, a file turned into a directory, chmod -x.
const shared = layerTar({
  'usr/bin/.wh.old': { data: '' },
  'opt/dir/.wh..wh..opq': { data: '' },
  'opt/dir/c': { data: 'c', mode: 0o755 },
  'bin/tool': { data: '#!/bin/sh\necho v2\n', mode: 0o755 },
  'x/y': { data: 'y', mode: 0o755 },
  'lib/libx.so': { data: 'plain now', mode: 0o644 },
});
const app1 = layerTar({ 'app/server': { data: ELF, mode: 0o755 } });
// The second app layer whites out a file the shared layer below it wrote.
const app2 = layerTar({ 'app/worker': { data: Buffer.concat([ELF, Buffer.from('worker')]), mode: 0o750 }, 'opt/dir/.wh.c': { data: '' } });

let images: { a: PushedImage; b: PushedImage; c: PushedImage };
/** Digests of the same images injected with no cache at all: what every cached injection must reproduce. */
const uncached = new Map<string, string>();

beforeAll(async () => {
  enforcerArtifacts();
  images = {
    a: await pushImage(plain, { layers: [base1, shared, app1], config: { Entrypoint: ['/app/server'] } }),
    b: await pushImage(plain, { layers: [base2, shared, app2], config: { Entrypoint: ['/app/worker'] } }),
    c: await pushImage(plain, { layers: [base1, shared, app2] }),
  };
  for (const image of Object.values(images)) uncached.set(image.ref, (await injectEnforcer(plain, image.ref, target())).digest);
}, 60_000);

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('injection with the layer scan cache', () => {
  it('pushes exactly what a full scan pushes, and does not fetch the layers it replays', async () => {
    const dir = cacheDir();
    const cold = counting();
    const a = await injectEnforcer(cold, images.a.ref, target(), { scanCache: new LayerScanCache({ dir }) });
    expect(a.digest).toBe(uncached.get(images.a.ref));
    expect(a.images[0]!.cachedLayers).toBe(0);
    expect(cold.fetched).toEqual(expect.arrayContaining(await layerDigests(images.a)));
    expect(entryFiles(dir)).toHaveLength(3);

    // A new instance on the same directory: the shared layer comes from disk, on top of another base.
    const warm = counting();
    const cache = new LayerScanCache({ dir });
    const progress: InjectProgress[] = [];
    const b = await injectEnforcer(warm, images.b.ref, target(), { scanCache: cache, onProgress: (p) => progress.push(p) });
    expect(b.digest).toBe(uncached.get(images.b.ref));
    expect(b.images[0]!.cachedLayers).toBe(1);
    const [b1, sharedDigest, b3] = await layerDigests(images.b);
    expect(warm.fetched).not.toContain(sharedDigest);
    expect(warm.fetched).toEqual(expect.arrayContaining([b1, b3]));
    expect(progress.filter((p) => p.phase === 'layer').map((p) => [p.layer, p.cached])).toEqual([[1, false], [2, true], [3, false]]);
    // The replayed layer acted on base2's files as a full scan's did: /usr/bin/old (a directory there) and
    // /opt/dir/z are gone, /lib/libx.so lost its x bit; the app layer's whiteout removed /opt/dir/c.
    expect((await manifestLines(b.ref, b.digest)).map((l) => l.split(' ').slice(3).join(' '))).toEqual(['/app/worker', '/bin/tool', '/srv/setuid', '/x/y']);

    // Every layer of c was seen before: a third instance replays all of them from disk, fetching none.
    const none = counting();
    const c = await injectEnforcer(none, images.c.ref, target(), { scanCache: new LayerScanCache({ dir }) });
    expect(c.digest).toBe(uncached.get(images.c.ref));
    expect(c.images[0]!.cachedLayers).toBe(3);
    for (const d of await layerDigests(images.c)) expect(none.fetched).not.toContain(d);
    expect(c.images[0]!.files).toBe((await injectEnforcer(plain, images.c.ref, target())).images[0]!.files);
  });

  it('works in memory alone', async () => {
    const cache = new LayerScanCache();
    await injectEnforcer(plain, images.a.ref, target(), { scanCache: cache });
    const client = counting();
    const again = await injectEnforcer(client, images.a.ref, target(), { scanCache: cache });
    expect(again.digest).toBe(uncached.get(images.a.ref));
    expect(again.images[0]!.cachedLayers).toBe(3);
    for (const d of await layerDigests(images.a)) expect(client.fetched).not.toContain(d);
  });

  const rewrite = (file: string, edit: (header: Record<string, unknown>, rows: unknown[]) => void) => {
    const bytes = readFileSync(file);
    const nl = bytes.indexOf(0x0a);
    const header = JSON.parse(bytes.subarray(0, nl).toString()) as Record<string, unknown>;
    const rows = JSON.parse(bytes.subarray(nl + 1).toString()) as unknown[];
    edit(header, rows);
    const body = Buffer.from(JSON.stringify(rows));
    header.entries = rows.length;
    header.body = createHash('sha256').update(body).digest('hex');
    writeFileSync(file, Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), body]));
  };

  it.each<[string, (file: string, originals: Map<string, Buffer>) => void, boolean]>([
    ['an empty file', (f) => writeFileSync(f, ''), true],
    ['a truncated file', (f) => writeFileSync(f, readFileSync(f).subarray(0, Math.floor(readFileSync(f).length / 2))), true],
    ['a flipped byte in the body', (f) => {
      const b = readFileSync(f);
      b[b.length - 3] = b[b.length - 3]! ^ 0x01;
      writeFileSync(f, b);
    }, true],
    ['not an entry at all', (f) => writeFileSync(f, 'hello\nworld'), true],
    ['another layer\'s entry under this name', (f, originals) => writeFileSync(f, [...originals].find(([o]) => o !== f)![1]), true],
    ['another format version', (f) => rewrite(f, (h) => (h.version = SCAN_CACHE_VERSION + 1)), true],
    ['a malformed change with a matching checksum', (f) => rewrite(f, (_h, rows) => rows.push(['bin/evil', 'f', 0o755, 1, 'not-a-sha256'])), true],
    ['an unknown change type with a matching checksum', (f) => rewrite(f, (_h, rows) => rows.push(['bin/evil', 'x'])), true],
    // Well formed, but it measured another diff_id than the image claims: the layer is read, and decides.
    ['a diff_id that is not the image\'s', (f) => rewrite(f, (h) => (h.diffId = `sha256:${'1'.repeat(64)}`)), false],
  ])('ignores %s and reads the layer instead', async (_name, corrupt, reported) => {
    const dir = cacheDir();
    await injectEnforcer(plain, images.a.ref, target(), { scanCache: new LayerScanCache({ dir }) });
    const files = entryFiles(dir);
    expect(files).toHaveLength(3);
    const originals = new Map(files.map((f) => [f, readFileSync(f)]));
    for (const f of files) corrupt(f, originals);

    const ignored: string[] = [];
    const client = counting();
    const result = await injectEnforcer(client, images.a.ref, target(), { scanCache: new LayerScanCache({ dir, onIgnored: (d) => ignored.push(d) }) });
    expect(result.digest).toBe(uncached.get(images.a.ref));
    expect(result.images[0]!.cachedLayers).toBe(0);
    const layers = await layerDigests(images.a);
    expect(client.fetched).toEqual(expect.arrayContaining(layers));
    expect(ignored.sort()).toEqual(reported ? [...layers].sort() : []);

    // The rescan wrote good entries back.
    const next = await injectEnforcer(plain, images.a.ref, target(), { scanCache: new LayerScanCache({ dir }) });
    expect(next.images[0]!.cachedLayers).toBe(3);
    expect(next.digest).toBe(result.digest);
  });

  it('refuses an image whose layer does not match its diff_id exactly as a full scan does, even when the blob is cached', async () => {
    const cache = new LayerScanCache({ dir: cacheDir() });
    await injectEnforcer(plain, images.a.ref, target(), { scanCache: cache });
    const lying = await pushImage(plain, { layers: [base1], diffIds: [`sha256:${'0'.repeat(64)}`] });
    const withCache = await injectEnforcer(plain, lying.ref, target(), { scanCache: cache }).catch((e: unknown) => e);
    const without = await injectEnforcer(plain, lying.ref, target()).catch((e: unknown) => e);
    expect(isSlipwayError(withCache, 'SLW_INJECT_LAYER')).toBe(true);
    expect((withCache as Error).message).toBe((without as Error).message);
  });

  it('scans a layer whose entry would exceed the size bound every time, and writes nothing for it', async () => {
    const dir = cacheDir();
    const cache = new LayerScanCache({ dir, maxEntryBytes: 400 });
    const small = await pushImage(plain, { layers: [layerTar({ 'bin/a': { data: 'a', mode: 0o755 } }), base1] });
    await injectEnforcer(plain, small.ref, target(), { scanCache: cache });
    expect(entryFiles(dir)).toHaveLength(1);
    const again = await injectEnforcer(plain, small.ref, target(), { scanCache: cache });
    expect(again.images[0]!.cachedLayers).toBe(1);
    expect(again.digest).toBe((await injectEnforcer(plain, small.ref, target())).digest);
  });
});

describe('LayerScanCache', () => {
  const scan = (n: number) => ({ diffId: `sha256:${'a'.repeat(64)}`, changes: Array.from({ length: n }, (_, i) => ({ type: 'directory' as const, name: `d${i}` })) });
  const digest = (c: string) => `sha256:${c.repeat(64)}`;

  it('never turns a malformed digest into a path', async () => {
    const dir = cacheDir();
    const cache = new LayerScanCache({ dir });
    for (const bad of ['../../etc/passwd', 'sha256:../../x', `sha256:${'A'.repeat(64)}`, `md5:${'a'.repeat(32)}`]) {
      await cache.put(bad, 'gzip', scan(1));
      expect(await cache.get(bad, 'gzip')).toBeUndefined();
    }
    expect(entryFiles(dir)).toEqual([]);
  });

  it('keys by compression too: the same bytes read as gzip and as a plain tar are different layers', async () => {
    const cache = new LayerScanCache({ dir: cacheDir() });
    await cache.put(digest('b'), 'gzip', scan(1));
    expect(await cache.get(digest('b'), 'none')).toBeUndefined();
    expect(await new LayerScanCache({ dir: dirs.at(-1)! }).get(digest('b'), 'none')).toBeUndefined();
    expect(await cache.get(digest('b'), 'gzip')).toEqual(scan(1));
  });

  it('evicts the least recently used entries beyond its memory budget', async () => {
    // Each entry serializes to about 60 bytes; the budget holds two.
    const cache = new LayerScanCache({ maxMemoryBytes: 130 });
    await cache.put(digest('1'), 'gzip', scan(5));
    await cache.put(digest('2'), 'gzip', scan(5));
    expect(await cache.get(digest('1'), 'gzip')).toBeDefined();
    await cache.put(digest('3'), 'gzip', scan(5));
    expect(await cache.get(digest('2'), 'gzip')).toBeUndefined();
    expect(await cache.get(digest('1'), 'gzip')).toBeDefined();
    expect(await cache.get(digest('3'), 'gzip')).toBeDefined();
  });

  it('keeps its directory within maxDiskBytes, dropping the least recently used entries and dead writers\' files', async () => {
    const dir = cacheDir();
    const unbounded = new LayerScanCache({ dir });
    for (const c of ['a', 'b', 'c']) await unbounded.put(digest(c), 'gzip', scan(50));
    const file = (c: string) => join(dir, `layer-scan-v${SCAN_CACHE_VERSION}`, `sha256-${c.repeat(64)}.gzip`);
    const size = readFileSync(file('a')).length;
    const now = Date.now() / 1000;
    ['a', 'b', 'c'].forEach((c, i) => utimesSync(file(c), now - 300 + i * 100, now - 300 + i * 100));
    const stale = join(dir, `layer-scan-v${SCAN_CACHE_VERSION}`, 'x.123.abc.tmp');
    const fresh = join(dir, `layer-scan-v${SCAN_CACHE_VERSION}`, 'y.123.abc.tmp');
    writeFileSync(stale, 'partial');
    writeFileSync(fresh, 'partial');
    utimesSync(stale, now - 7200, now - 7200);
    // Reading 'a' from disk makes it the most recently used of the three.
    expect(await new LayerScanCache({ dir }).get(digest('a'), 'gzip')).toBeDefined();
    await new LayerScanCache({ dir, maxDiskBytes: size * 3, pruneIntervalMs: 0 }).put(digest('d'), 'gzip', scan(50));
    expect(entryFiles(dir).sort()).toEqual([file('a'), file('d')]);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(fresh)).toBe(true);
  });

  it('round-trips every change type and raw latin1 names through disk', async () => {
    const dir = cacheDir();
    const changes = [
      { type: 'file' as const, name: 'bin/\u00ff\u0001na me', mode: 0o4755, size: 12, sha256: 'c'.repeat(64) },
      { type: 'file' as const, name: 'etc/x', mode: 0o644, size: 0, sha256: undefined },
      { type: 'symlink' as const, name: 'bin/sh', linkname: '/bin/\u00e9' },
      { type: 'hardlink' as const, name: 'bin/h', linkname: 'bin/\u00ff\u0001na me' },
      { type: 'directory' as const, name: './' },
      { type: 'other' as const, name: 'dev/null' },
    ];
    await new LayerScanCache({ dir }).put(digest('d'), 'zstd', { diffId: digest('e'), changes });
    expect(await new LayerScanCache({ dir }).get(digest('d'), 'zstd')).toEqual({ diffId: digest('e'), changes });
  });
});

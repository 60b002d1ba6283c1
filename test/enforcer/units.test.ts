import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isSlipwayError } from '../../src/core/errors.js';
import { buildSlipwayLayer, LayeredFilesystem, readTar, renderManifest, renderPolicy, rewriteConfig, unwrapInjection, wrapEntrypoint, writeTar, type ImageConfigJson } from '../../src/injection/index.js';
import { ELF, layerTar, type LayerSpec } from './layers.js';

/** The pure pieces: tar reading and writing, the filesystem model, config wrapping. */

async function entries(tar: Buffer) {
  const out: { name: string; type: string; mode: number; body: string; linkname: string }[] = [];
  // Fed in small, odd-sized chunks: headers and bodies must be reassembled across chunk boundaries.
  const chunks = Array.from({ length: Math.ceil(tar.length / 333) }, (_, i) => tar.subarray(i * 333, (i + 1) * 333));
  for await (const e of readTar(chunks)) {
    const parts: Buffer[] = [];
    for await (const c of e.body) parts.push(c);
    out.push({ name: e.name, type: e.type, mode: e.mode, body: Buffer.concat(parts).toString('latin1'), linkname: e.linkname });
  }
  return out;
}

async function executables(...layers: LayerSpec[]) {
  const fs = new LayeredFilesystem();
  for (const layer of layers) {
    fs.beginLayer();
    for await (const e of readTar([layerTar(layer)])) await fs.apply(e);
  }
  return fs.executables().map((f) => f.path);
}

describe('readTar', () => {
  it.each(['gnu', 'pax'] as const)('reads GNU tar output in %s format: long names, links, modes, bodies across chunks', async (format) => {
    const long = `${'x'.repeat(150)}/${'y'.repeat(80)}`;
    const list = await entries(layerTar({ [long]: { data: 'L'.repeat(1000), mode: 0o750 }, 'zlink': { symlink: long }, 'zhard': { hardlink: long } }, format));
    expect(list.find((e) => e.name === `./${long}`)).toMatchObject({ type: 'file', mode: 0o750, body: 'L'.repeat(1000) });
    expect(list.find((e) => e.name === './zlink')).toMatchObject({ type: 'symlink', linkname: long });
    expect(list.find((e) => e.name === './zhard')).toMatchObject({ type: 'hardlink', linkname: `./${long}`, body: '' });
  });

  it('keeps non-UTF-8 file name bytes exactly', async () => {
    const name = Buffer.from([0x61, 0xff, 0xfe, 0x62]).toString('latin1');
    const tar = writeTar([{ name, type: 'file', mode: 0o755, data: Buffer.from('x') }]);
    const [e] = await entries(tar);
    expect(Buffer.from(e!.name, 'latin1')).toEqual(Buffer.from([0x61, 0xff, 0xfe, 0x62]));
  });

  it.each([
    ['a corrupted header checksum', (t: Buffer) => (t[0] = t[0]! ^ 1), /checksum/],
    ['a truncated body', (t: Buffer) => t.subarray(0, 600), /ends in the middle/],
  ])('rejects %s', async (_name, damage, message) => {
    let tar: Buffer = writeTar([{ name: 'a', type: 'file', mode: 0o644, data: Buffer.alloc(1000, 1) }]);
    const out = damage(tar);
    if (Buffer.isBuffer(out)) tar = out;
    const err = await entries(tar).catch((e: unknown) => e);
    expect(isSlipwayError(err, 'SLW_INJECT_LAYER')).toBe(true);
    expect((err as Error).message).toMatch(message);
  });
});

describe('writeTar and the Slipway layer', () => {
  it('writes archives GNU tar lists, with fixed owner and mtime', () => {
    const tar = writeTar([
      { name: '.slipway/', type: 'directory', mode: 0o755 },
      { name: '.slipway/enforcer', type: 'file', mode: 0o755, data: ELF },
    ]);
    const listing = execFileSync('tar', ['-tvf', '-', '--numeric-owner', '--utc'], { input: tar }).toString();
    expect(listing).toContain(`drwxr-xr-x 0/0               0 1970-01-01 00:00 .slipway/`);
    expect(listing).toContain(`-rwxr-xr-x 0/0              ${ELF.length} 1970-01-01 00:00 .slipway/enforcer`);
  });

  it('gives the same digest for the same input', () => {
    const a = buildSlipwayLayer(ELF, Buffer.from('m\n'), Buffer.from('{}\n'));
    const b = buildSlipwayLayer(Buffer.from(ELF), Buffer.from('m\n'), Buffer.from('{}\n'));
    expect(b).toEqual(a);
    expect(buildSlipwayLayer(ELF, Buffer.from('n\n'), Buffer.from('{}\n')).digest).not.toBe(a.digest);
  });

  it('renders manifest lines the enforcer accepts, skipping what the format cannot hold and /.slipway itself', () => {
    const f = (path: string, mode = 0o755) => ({ path, mode, size: 1, sha256: 'a'.repeat(64) });
    const r = renderManifest([f('/bin/a b'), f('/bin/new\nline'), f('/.slipway/enforcer'), f('/sbin/su', 0o4755)]);
    expect(r.bytes.toString()).toBe(`# slipway manifest v1\n${'a'.repeat(64)} 1 0755 /bin/a b\n${'a'.repeat(64)} 1 4755 /sbin/su\n`);
    expect(r.skipped).toEqual(['/bin/new\nline']);
  });

  it('refuses relative allow paths', () => {
    expect(() => renderPolicy({ mode: 'enforce', allow: ['opt/x'], onUnsupported: 'fallback' })).toThrow(/absolute/);
  });
});

describe('LayeredFilesystem', () => {
  it.each<[string, LayerSpec[], string[]]>([
    ['an executable', [{ 'bin/a': { data: 'a', mode: 0o755 } }], ['/bin/a']],
    ['only an execute bit for others counts too', [{ 'bin/a': { data: 'a', mode: 0o701 } }], ['/bin/a']],
    ['an ELF file without execute bits', [{ 'lib/x.so': { data: ELF } }], ['/lib/x.so']],
    ['not a short non-executable file', [{ 'etc/x': { data: 'ab' } }], []],
    ['a whiteout in a later layer', [{ 'bin/a': { data: 'a', mode: 0o755 } }, { 'bin/.wh.a': { data: '' } }], []],
    ['a whiteout of a directory removes what is beneath', [{ 'opt/d/a': { data: 'a', mode: 0o755 } }, { 'opt/.wh.d': { data: '' } }], []],
    ['an opaque directory keeps its own layer', [{ 'd/a': { data: 'a', mode: 0o755 } }, { 'd/.wh..wh..opq': { data: '' }, 'd/b': { data: 'b', mode: 0o755 } }], ['/d/b']],
    ['a file replaced by a directory', [{ 'x': { data: 'a', mode: 0o755 } }, { 'x/y': { data: 'b', mode: 0o755 } }], ['/x/y']],
    ['a symlinked directory replaced by a real one (overlay2)', [{ 'usr/bin/a': { data: 'a', mode: 0o755 }, 'bin': { symlink: 'usr/bin' } }, { 'bin/b': { data: 'b', mode: 0o755 } }], ['/bin/b', '/usr/bin/a']],
    ['chmod -x in a later layer', [{ 'bin/a': { data: 'a', mode: 0o755 } }, { 'bin/a': { data: 'a', mode: 0o644 } }], []],
  ])('%s', async (_name, layers, expected) => {
    expect(await executables(...layers)).toEqual(expected);
  });
});

describe('Entrypoint wrapping', () => {
  const base = (c: Partial<NonNullable<ImageConfigJson['config']>>): ImageConfigJson => ({ architecture: 'amd64', os: 'linux', config: { ...c }, rootfs: { type: 'layers', diff_ids: ['sha256:1'] }, history: [{ created_by: 'x' }] });
  const input = { diffId: 'sha256:2', enforcerVersion: 'v', mode: 'enforce', executables: 1, labels: {} };

  it.each<[string, string[] | null | undefined, string[]]>([
    ['exec form', ['/app', '--serve'], ['/.slipway/enforcer', '--', '/app', '--serve']],
    ['shell form', ['/bin/sh', '-c', 'exec app "$@"'], ['/.slipway/enforcer', '--', '/bin/sh', '-c', 'exec app "$@"']],
    ['none (Cmd follows the wrapper)', null, ['/.slipway/enforcer', '--']],
    ['absent', undefined, ['/.slipway/enforcer', '--']],
    ['empty', [], ['/.slipway/enforcer', '--']],
  ])('%s', (_name, entrypoint, wrapped) => {
    expect(wrapEntrypoint(entrypoint)).toEqual(wrapped);
    const out = rewriteConfig(base({ Entrypoint: entrypoint, Cmd: ['c'] }), input);
    expect(out.config!.Entrypoint).toEqual(wrapped);
    expect(out.config!.Cmd).toEqual(['c']);
    const back = unwrapInjection(out);
    expect(back.removedLayer).toBe(1);
    expect(back.config.config!.Entrypoint).toEqual(entrypoint ?? null);
    expect(rewriteConfig(back.config, input)).toEqual(out);
  });

  it('an image built FROM an injected one with a new Entrypoint keeps it; the inherited wrapper goes', () => {
    const injected = rewriteConfig(base({ Entrypoint: ['/old'] }), input);
    injected.config!.Entrypoint = ['/.slipway/enforcer', '--', '/new'];
    injected.rootfs!.diff_ids!.push('sha256:3');
    const back = unwrapInjection(injected);
    expect(back.config.config!.Entrypoint).toEqual(['/new']);
    expect(back.config.rootfs!.diff_ids).toEqual(['sha256:1', 'sha256:3']);
  });
});

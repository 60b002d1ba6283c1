import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { isSlipwayError } from '../../src/core/errors.js';
import { injectEnforcer, LABELS } from '../../src/injection/index.js';
import { MediaTypes, RegistryClient } from '../../src/registry/index.js';
import { SHARED_REGISTRY, uniqueRepo } from '../helpers/registry.js';
import { enforcerArtifacts } from './docker.js';
import { ELF, layerTar, pushImage, slipwayFiles } from './layers.js';

/** Injection against the real registry, no containers: what the executable manifest, config and manifest become. */

const client = new RegistryClient({ host: SHARED_REGISTRY });
const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');
const target = (tag = 'injected') => `${SHARED_REGISTRY}/${uniqueRepo('injected')}:${tag}`;

async function configOf(repo: string, digest: string): Promise<{ config: Record<string, unknown> & { Entrypoint?: string[]; Cmd?: string[]; Labels: Record<string, string> }; rootfs: { diff_ids: string[] }; history: { comment?: string }[] }> {
  const manifest = (await client.getManifest(repo, digest)).json as { config: { digest: string } };
  return JSON.parse((await client.getBlobBytes(repo, manifest.config.digest)).toString()) as never;
}

const repoOf = (ref: string) => ref.slice(SHARED_REGISTRY.length + 1).replace(/[@:].*$/, '');

beforeAll(() => {
  enforcerArtifacts();
});

describe('the executable manifest', () => {
  it('follows layers in order: whiteouts, opaque directories, hard links, symlinks, ELF without x bits', async () => {
    const layers = [
      layerTar({
        'bin/tool': { data: '#!/bin/sh\necho v1\n', mode: 0o755 },
        'bin/hard': { hardlink: 'bin/tool' },
        'bin/sh': { symlink: 'tool' },
        'bin/data': { data: 'not executable' },
        'lib/libx.so': { data: ELF, mode: 0o644 },
        'usr/bin/old': { data: 'old', mode: 0o755 },
        'opt/dir/a': { data: 'a', mode: 0o755 },
        'opt/dir/sub/b': { data: 'b', mode: 0o700 },
        'srv/setuid': { data: 'suid', mode: 0o4755 },
        'usr/bin/a name with spaces': { data: 'spaces', mode: 0o755 },
        [`deep/${'d'.repeat(120)}/exe`]: { data: 'long path', mode: 0o755 },
      }),
      layerTar({
        'usr/bin/.wh.old': { data: '' },
        'opt/dir/.wh..wh..opq': { data: '' },
        'opt/dir/c': { data: 'c', mode: 0o755 },
        'bin/tool': { data: '#!/bin/sh\necho v2\n', mode: 0o755 },
      }),
    ];
    const image = await pushImage(client, { layers, config: { Entrypoint: ['/bin/tool'] } });
    const result = await injectEnforcer(client, image.ref, target());
    const files = await slipwayFiles(client, repoOf(result.ref), result.digest);
    const lines = files.get('.slipway/manifest')!.toString().split('\n').filter((l) => l && !l.startsWith('#'));
    const entry = (path: string, data: string | Buffer, mode: string) => `${sha(data)} ${Buffer.byteLength(data)} ${mode} ${path}`;
    expect(lines).toEqual([
      // The hard link keeps the inode of layer 1; layer 2 wrote a new file at bin/tool (overlayfs copy-up).
      entry('/bin/hard', '#!/bin/sh\necho v1\n', '0755'),
      entry('/bin/tool', '#!/bin/sh\necho v2\n', '0755'),
      entry(`/deep/${'d'.repeat(120)}/exe`, 'long path', '0755'),
      entry('/lib/libx.so', ELF, '0644'),
      entry('/opt/dir/c', 'c', '0755'),
      entry('/srv/setuid', 'suid', '4755'),
      entry('/usr/bin/a name with spaces', 'spaces', '0755'),
    ]);
    expect(result.images[0]).toMatchObject({ executables: 7, replaced: false, skipped: [], layers: 3 });
  });

  it('writes report: all into the policy when asked (every denied exec reported)', async () => {
    const image = await pushImage(client, { layers: [layerTar({ 'bin/x': { data: ELF, mode: 0o755 } })] });
    const result = await injectEnforcer(client, image.ref, target(), { policy: { report: 'all' } });
    const files = await slipwayFiles(client, repoOf(result.ref), result.digest);
    expect(JSON.parse(files.get('.slipway/policy.json')!.toString())).toEqual({ mode: 'enforce', allow: [], onUnsupported: 'fallback', report: 'all' });
  });

  it('writes the policy and the enforcer, deterministic tar metadata', async () => {
    const image = await pushImage(client, { layers: [layerTar({ 'bin/x': { data: ELF, mode: 0o755 } })] });
    const result = await injectEnforcer(client, image.ref, target(), { policy: { mode: 'audit', allow: ['/opt/plugins/'] } });
    const files = await slipwayFiles(client, repoOf(result.ref), result.digest);
    expect([...files.keys()]).toEqual(['.slipway/', '.slipway/enforcer', '.slipway/manifest', '.slipway/policy.json']);
    expect(JSON.parse(files.get('.slipway/policy.json')!.toString())).toEqual({ mode: 'audit', allow: ['/opt/plugins/'], onUnsupported: 'fallback', report: 'no-cost' });
    expect(sha(files.get('.slipway/enforcer')!)).toBe(sha((await import('node:fs')).readFileSync(enforcerArtifacts().enforcer)));
  });
});

describe('the config and manifest', () => {
  it.each([
    ['OCI', MediaTypes.ociManifest, MediaTypes.ociLayerGzip],
    ['Docker v2.2', MediaTypes.dockerManifest, MediaTypes.dockerLayerGzip],
  ] as const)('keeps the %s media type family and wraps the Entrypoint', async (_name, mediaType, layerType) => {
    const image = await pushImage(client, { mediaType, layers: [layerTar({ 'bin/app': { data: ELF, mode: 0o755 } })], config: { Entrypoint: ['/bin/app', '--serve'], Cmd: ['--port', '8080'] } });
    const result = await injectEnforcer(client, image.ref, target(), { labels: { 'dev.slipway.build': 'b-1', 'org.opencontainers.image.revision': 'a'.repeat(40) } });
    const repo = repoOf(result.ref);
    const m = await client.getManifest(repo, result.digest);
    expect(m.mediaType).toBe(mediaType);
    const manifest = m.json as { layers: { mediaType: string; annotations?: Record<string, string> }[] };
    expect(manifest.layers).toHaveLength(2);
    expect(manifest.layers[1]!.mediaType).toBe(layerType);
    const config = await configOf(repo, result.digest);
    expect(config.config.Entrypoint).toEqual(['/.slipway/enforcer', '--', '/bin/app', '--serve']);
    expect(config.config.Cmd).toEqual(['--port', '8080']);
    expect(config.config.Labels).toMatchObject({
      'dev.slipway.build': 'b-1',
      'org.opencontainers.image.revision': 'a'.repeat(40),
      [LABELS.entrypoint]: '["/bin/app","--serve"]',
      [LABELS.version]: result.enforcerVersion,
      [LABELS.mode]: 'enforce',
    });
    expect(config.rootfs.diff_ids).toHaveLength(2);
    expect(config.config.Labels[LABELS.layer]).toBe(config.rootfs.diff_ids[1]);
    expect(config.history.at(-1)!.comment).toBe('dev.slipway.enforcer');
  });

  it('is deterministic and idempotent: the same image twice, and an injected image again, give one digest', async () => {
    const image = await pushImage(client, { layers: [layerTar({ 'bin/app': { data: ELF, mode: 0o755 } })], config: { Cmd: ['/bin/app'] } });
    const first = await injectEnforcer(client, image.ref, target('a'));
    const second = await injectEnforcer(client, image.ref, target('b'));
    expect(second.digest).toBe(first.digest);
    const again = await injectEnforcer(client, first.ref, target('c'));
    expect(again.digest).toBe(first.digest);
    expect(again.images[0]!.replaced).toBe(true);
    const config = await configOf(repoOf(again.ref), again.digest);
    expect(config.config.Entrypoint).toEqual(['/.slipway/enforcer', '--']);
    expect(config.config.Cmd).toEqual(['/bin/app']);
    expect(config.rootfs.diff_ids).toHaveLength(2);
    // A different policy replaces the layer rather than stacking a second one.
    const audit = await injectEnforcer(client, first.ref, target('d'), { policy: { mode: 'audit' } });
    expect(audit.digest).not.toBe(first.digest);
    expect((await configOf(repoOf(audit.ref), audit.digest)).rootfs.diff_ids).toHaveLength(2);
  });

  it('injects each image of a linux/amd64 index and drops attestation manifests', async () => {
    const repo = uniqueRepo('index');
    const image = await pushImage(client, { repo, tag: 'amd64', layers: [layerTar({ 'bin/app': { data: ELF, mode: 0o755 } })] });
    const size = (await client.getManifest(repo, image.digest)).bytes.length;
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaTypes.ociIndex,
        manifests: [
          { mediaType: MediaTypes.ociManifest, digest: image.digest, size, platform: { os: 'linux', architecture: 'amd64' } },
          { mediaType: MediaTypes.ociManifest, digest: image.digest, size, platform: { os: 'unknown', architecture: 'unknown' }, annotations: { 'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': image.digest } },
        ],
      }),
    );
    await client.putManifest(repo, 'multi', index, MediaTypes.ociIndex);
    const result = await injectEnforcer(client, `${SHARED_REGISTRY}/${repo}:multi`, target());
    expect(result.mediaType).toBe(MediaTypes.ociIndex);
    const out = (await client.getManifest(repoOf(result.ref), result.digest)).json as { manifests: { digest: string; platform: { architecture: string } }[] };
    expect(out.manifests).toHaveLength(1);
    expect(out.manifests[0]!.digest).toBe(result.images[0]!.digest);
    expect(out.manifests[0]!.platform.architecture).toBe('amd64');
  });

  it.each([
    ['an arm64 image', async () => (await pushImage(client, { architecture: 'arm64', layers: [layerTar({ a: { data: 'a' } })] })).ref, 'SLW_INJECT_UNSUPPORTED', /linux\/amd64 only/],
    ['layers that do not match rootfs.diff_ids', async () => (await pushImage(client, { layers: [layerTar({ a: { data: 'a' } })], diffIds: [`sha256:${'0'.repeat(64)}`] })).ref, 'SLW_INJECT_LAYER', /diff_ids\[0\]/],
  ])('refuses %s with a clear error', async (_name, make, code, message) => {
    const err = await injectEnforcer(client, await make(), target()).catch((e: unknown) => e);
    expect(isSlipwayError(err, code as 'SLW_INJECT_LAYER')).toBe(true);
    expect((err as Error).message).toMatch(message);
  });

  it('says how to build the enforcer when the binary is missing', async () => {
    const image = await pushImage(client, { layers: [layerTar({ a: { data: 'a' } })] });
    const err = await injectEnforcer(client, image.ref, target(), { enforcerPath: '/nonexistent/enforcer' }).catch((e: unknown) => e);
    expect(isSlipwayError(err, 'SLW_INJECT_ENFORCER_MISSING')).toBe(true);
    expect((err as Error).message).toContain('make -C enforcer');
  });
});

describe('slipway inject', () => {
  const cli = async (args: string[]) => {
    const out = new PassThrough();
    const err = new PassThrough();
    let stdout = '';
    let stderr = '';
    out.on('data', (c: Buffer) => (stdout += c.toString()));
    err.on('data', (c: Buffer) => (stderr += c.toString()));
    const code = await main(args, { env: {}, stdout: out, stderr: err, cwd: process.cwd() });
    return { code, stdout, stderr };
  };

  it('prints the injected image by digest', async () => {
    const image = await pushImage(client, { layers: [layerTar({ 'bin/app': { data: ELF, mode: 0o755 } })] });
    const dir = mkdtempSync(join(tmpdir(), 'slipway-inject-cli-'));
    try {
      writeFileSync(join(dir, 'x'), '');
      const to = target();
      const r = await cli(['inject', image.ref, '--to', to, '--mode', 'audit', '--allow', '/opt/a/', '/opt/b', '--label', 'dev.slipway.build=cli']);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout).toMatch(new RegExp(`^${to.replace(/:injected$/, '')}@sha256:[0-9a-f]{64}\\n$`));
      const ref = r.stdout.trim();
      const files = await slipwayFiles(client, repoOf(ref), ref.slice(ref.indexOf('@') + 1));
      expect(JSON.parse(files.get('.slipway/policy.json')!.toString())).toEqual({ mode: 'audit', allow: ['/opt/a/', '/opt/b'], onUnsupported: 'fallback', report: 'no-cost' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [['inject', 'x', '--to', 'y', '--mode', 'strict'], 2],
    [['inject', 'x'], 2],
  ])('usage errors exit 2: %j', async (args, code) => {
    expect((await cli(args)).code).toBe(code);
  });
});

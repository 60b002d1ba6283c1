import { execFileSync } from 'node:child_process';
import { chmodSync, linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { readTar } from '../../src/injection/index.js';
import { MediaTypes, RegistryClient, sha256Digest } from '../../src/registry/index.js';
import { SHARED_REGISTRY, uniqueRepo } from '../helpers/registry.js';

/** A file tree for one layer: content (with mode), `{ symlink }`, `{ hardlink }` (an earlier path in the same layer). */
export type LayerSpec = Record<string, { data: string | Buffer; mode?: number } | { symlink: string } | { hardlink: string } | { dir: true }>;

export const ELF = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(56, 1)]);

/**
 * A real layer tar, written by GNU tar (the same tool family as image builders' output: ustar/PAX/GNU
 * headers, hard links as type 1) from a tree on disk. Whiteouts are plain empty files named `.wh.*`, as
 * OCI image-spec layer.md specifies.
 */
export function layerTar(spec: LayerSpec, format: 'gnu' | 'pax' = 'pax'): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'slipway-layer-'));
  try {
    for (const [path, e] of Object.entries(spec)) {
      const full = join(dir, path);
      mkdirSync(dirname(full), { recursive: true });
      if ('dir' in e) mkdirSync(full, { recursive: true });
      else if ('symlink' in e) symlinkSync(e.symlink, full);
      else if ('hardlink' in e) linkSync(join(dir, e.hardlink), full);
      else {
        writeFileSync(full, e.data);
        chmodSync(full, e.mode ?? 0o644);
      }
    }
    return execFileSync('tar', ['-C', dir, `--format=${format}`, '--numeric-owner', '--owner=0', '--group=0', '--sort=name', '-cf', '-', '.'], { maxBuffer: 64 * 1024 * 1024 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface PushedImage {
  repo: string;
  digest: string;
  ref: string;
}

export interface ImageSpec {
  layers: Buffer[];
  config?: Record<string, unknown>;
  architecture?: string;
  mediaType?: typeof MediaTypes.ociManifest | typeof MediaTypes.dockerManifest;
  /** Override the diff_ids written to the config (to make an inconsistent image). */
  diffIds?: string[];
  repo?: string;
  tag?: string;
}

export async function pushImage(client: RegistryClient, spec: ImageSpec): Promise<PushedImage> {
  const repo = spec.repo ?? uniqueRepo('inject');
  const docker = spec.mediaType === MediaTypes.dockerManifest;
  const descriptors = [];
  for (const tar of spec.layers) {
    const gz = gzipSync(tar);
    descriptors.push({ mediaType: docker ? MediaTypes.dockerLayerGzip : MediaTypes.ociLayerGzip, digest: await client.uploadBlob(repo, gz), size: gz.length });
  }
  const config = Buffer.from(
    JSON.stringify({
      created: '2025-01-01T00:00:00Z',
      architecture: spec.architecture ?? 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/bin'], ...spec.config },
      rootfs: { type: 'layers', diff_ids: spec.diffIds ?? spec.layers.map((l) => sha256Digest(l)) },
      history: spec.layers.map((_, i) => ({ created: '2025-01-01T00:00:00Z', created_by: `layer ${i}` })),
    }),
  );
  const configDigest = await client.uploadBlob(repo, config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: spec.mediaType ?? MediaTypes.ociManifest,
      config: { mediaType: docker ? MediaTypes.dockerConfig : MediaTypes.ociConfig, digest: configDigest, size: config.length },
      layers: descriptors,
    }),
  );
  const digest = await client.putManifest(repo, spec.tag ?? 'v1', manifest, spec.mediaType ?? MediaTypes.ociManifest);
  return { repo, digest, ref: `${SHARED_REGISTRY}/${repo}@${digest}` };
}

/** The files of Slipway's layer (the last one) of an image in the registry. */
export async function slipwayFiles(client: RegistryClient, repo: string, digest: string): Promise<Map<string, Buffer>> {
  const manifest = (await client.getManifest(repo, digest)).json as { layers: { digest: string }[] };
  const blob = await client.getBlobBytes(repo, manifest.layers.at(-1)!.digest, { maxBytes: 64 * 1024 * 1024 });
  const files = new Map<string, Buffer>();
  for await (const entry of readTar([gunzipSync(blob)])) {
    const chunks: Buffer[] = [];
    for await (const c of entry.body) chunks.push(c);
    files.set(entry.name, Buffer.concat(chunks));
  }
  return files;
}

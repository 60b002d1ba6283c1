import { randomBytes } from 'node:crypto';
import type { Digest } from '../../src/core/types.js';
import { writeTar } from '../../src/injection/index.js';
import { MediaTypes, RegistryClient } from '../../src/registry/index.js';
import { SHARED_REGISTRY, uniqueRepo } from './registry.js';

export interface PushedImage {
  layer: Buffer;
  layerDigest: Digest;
  config: Buffer;
  configDigest: Digest;
  manifest: Buffer;
  digest: Digest;
}

/** /etc/passwd of the synthetic layer: `USER app` resolves to uid 1000 (policies judge the numeric uid). */
export const SYNTHETIC_PASSWD = 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n';

/**
 * Pushes a real (small) one-layer OCI image with the given image config to `repo` under `tag`: enough
 * for registry and policy tests, which judge manifests and configs, without running a build. The layer
 * is a tar with an /etc/passwd and `layerBytes` of random data (so every image is distinct).
 */
export async function pushImage(
  client: RegistryClient,
  repo: string,
  options: { config?: Record<string, unknown>; tag?: string; layerBytes?: number } = {},
): Promise<PushedImage> {
  const layer = writeTar([
    { name: 'etc', type: 'directory', mode: 0o755 },
    { name: 'etc/passwd', type: 'file', mode: 0o644, data: Buffer.from(SYNTHETIC_PASSWD) },
    { name: 'data', type: 'file', mode: 0o644, data: randomBytes(options.layerBytes ?? 1024) },
  ]);
  const layerDigest = await client.uploadBlob(repo, layer);
  const config = Buffer.from(
    JSON.stringify({
      created: new Date().toISOString(),
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/bin'], ...options.config },
      rootfs: { type: 'layers', diff_ids: [layerDigest] },
    }),
  );
  const configDigest = await client.uploadBlob(repo, config);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      config: { mediaType: MediaTypes.ociConfig, digest: configDigest, size: config.length },
      layers: [{ mediaType: MediaTypes.ociLayer, digest: layerDigest, size: layer.length }],
    }),
  );
  const digest = await client.putManifest(repo, options.tag ?? 'v1', manifest, MediaTypes.ociManifest);
  return { layer, layerDigest, config, configDigest, manifest, digest };
}

export interface SyntheticImage {
  repository: string;
  digest: string;
  /** `127.0.0.1:5000/<repo>@sha256:…` */
  ref: string;
  /** `127.0.0.1:5000/<repo>:v1` */
  tagRef: string;
}

/** An image in a fresh repository of the shared registry, with the given config. */
export async function pushSyntheticImage(
  config: { User?: string; Env?: string[]; Labels?: Record<string, string> },
  layerBytes = 2048,
): Promise<SyntheticImage> {
  const repository = uniqueRepo('policy');
  const { digest } = await pushImage(new RegistryClient({ host: SHARED_REGISTRY }), repository, { config, layerBytes });
  return { repository, digest, ref: `${SHARED_REGISTRY}/${repository}@${digest}`, tagRef: `${SHARED_REGISTRY}/${repository}:v1` };
}

export const PROVENANCE = { 'org.opencontainers.image.source': 'https://github.com/octo/hello', 'org.opencontainers.image.revision': 'a'.repeat(40) };

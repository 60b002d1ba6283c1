import { randomBytes } from 'node:crypto';
import { MediaTypes, RegistryClient } from '../../src/registry/index.js';
import { SHARED_REGISTRY, uniqueRepo } from './registry.js';

export interface SyntheticImage {
  repository: string;
  digest: string;
  /** `127.0.0.1:5000/<repo>@sha256:…` */
  ref: string;
  /** `127.0.0.1:5000/<repo>:v1` */
  tagRef: string;
}

/**
 * Pushes a real (small) OCI image to the registry with the given config: enough for policies, which
 * judge manifests and configs, without running a build.
 */
export async function pushSyntheticImage(config: { User?: string; Env?: string[]; Labels?: Record<string, string> }, layerBytes = 2048): Promise<SyntheticImage> {
  const client = new RegistryClient({ host: SHARED_REGISTRY });
  const repository = uniqueRepo('policy');
  const layer = randomBytes(layerBytes);
  const layerDigest = await client.uploadBlob(repository, layer);
  const configBlob = Buffer.from(JSON.stringify({ created: new Date().toISOString(), architecture: 'amd64', os: 'linux', config: { Env: ['PATH=/bin'], ...config }, rootfs: { type: 'layers', diff_ids: [layerDigest] } }));
  const configDigest = await client.uploadBlob(repository, configBlob);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      config: { mediaType: MediaTypes.ociConfig, digest: configDigest, size: configBlob.length },
      layers: [{ mediaType: MediaTypes.ociLayer, digest: layerDigest, size: layer.length }],
    }),
  );
  const digest = await client.putManifest(repository, 'v1', manifest, MediaTypes.ociManifest);
  return { repository, digest, ref: `${SHARED_REGISTRY}/${repository}@${digest}`, tagRef: `${SHARED_REGISTRY}/${repository}:v1` };
}

export const PROVENANCE = { 'org.opencontainers.image.source': 'https://github.com/octo/hello', 'org.opencontainers.image.revision': 'a'.repeat(40) };

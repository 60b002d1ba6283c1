import type { Descriptor, RegistryClient } from '../registry/index.js';

export interface BlobLocation {
  client: RegistryClient;
  repo: string;
}

/**
 * Makes a blob of the source image available in the target repository, cheapest way first: nothing
 * when it is already there, a cross-repository mount on the same registry (distribution-spec,
 * "Mounting a blob from another repository": no bytes move), else a streamed copy.
 */
export async function ensureBlob(source: BlobLocation, target: BlobLocation, blob: Descriptor, signal?: AbortSignal): Promise<void> {
  const sameHost = source.client.host === target.client.host;
  if (sameHost && source.repo === target.repo) return;
  const opts = signal ? { signal } : {};
  if (await target.client.blobExists(target.repo, blob.digest, opts)) return;
  if (sameHost && (await target.client.mountBlob(target.repo, blob.digest, source.repo))) return;
  const stream = await source.client.getBlob(source.repo, blob.digest, { size: blob.size, ...opts });
  await target.client.uploadBlobStream(target.repo, blob.digest as `sha256:${string}`, stream, opts);
}

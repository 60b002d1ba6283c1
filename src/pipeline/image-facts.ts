import { SlipwayError } from '../core/errors.js';
import type { ImageInput } from '../policy/index.js';
import { resolveUid, readImagePasswd } from './image-user.js';
import { formatImageRef, isIndexType, manifestReference, RegistryClient, type ImageManifest, type ImageIndex, type ImageRef } from '../registry/index.js';

interface ImageConfigBlob {
  created?: string;
  os?: string;
  architecture?: string;
  config?: {
    User?: string;
    Env?: string[] | null;
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    ExposedPorts?: Record<string, unknown> | null;
    Labels?: Record<string, string> | null;
  };
}

/**
 * What the `image` and `promote` gates judge, read from the registry by the reference given (the
 * manifest, and its config blob, both verified against their digests). A multi-platform index is
 * judged by its linux/amd64 image (the platform this machine builds and runs). `config.uid` is the
 * numeric uid `User` resolves to (image-user.ts), null when it cannot be resolved.
 */
export async function imageFacts(client: RegistryClient, ref: ImageRef, signal?: AbortSignal): Promise<ImageInput> {
  const top = await client.getManifest(ref.repository, manifestReference(ref), signal ? { signal } : {});
  let manifest = top.json as unknown as ImageManifest;
  if (isIndexType(top.mediaType)) {
    const index = top.json as unknown as ImageIndex;
    const pick = index.manifests.find((m) => m.platform?.os === 'linux' && m.platform.architecture === 'amd64') ?? index.manifests[0];
    if (!pick) throw new SlipwayError('SLW_REGISTRY_REJECTED', `${formatImageRef(ref)} is an empty image index`);
    manifest = (await client.getManifest(ref.repository, pick.digest, signal ? { signal } : {})).json as unknown as ImageManifest;
  }
  if (!manifest.config?.digest) throw new SlipwayError('SLW_REGISTRY_REJECTED', `${formatImageRef(ref)} is not a container image (its manifest has no config)`);
  const configBytes = await client.getBlobBytes(ref.repository, manifest.config.digest, signal ? { signal } : {});
  const blob = JSON.parse(configBytes.toString('utf8')) as ImageConfigBlob;
  const c = blob.config ?? {};
  const labels = c.Labels ?? {};
  const layers = (manifest.layers ?? []).map((l) => ({ digest: l.digest, size: l.size, mediaType: l.mediaType }));
  // Names are resolved through the image's own /etc/passwd; numbers (and root's other spellings) never need it.
  const uid = await resolveUid(c.User ?? '', () => readImagePasswd(client, ref.repository, manifest.layers ?? [], signal));
  return {
    ref: formatImageRef(ref),
    registry: ref.registry,
    repository: ref.repository,
    digest: top.digest,
    byDigest: ref.digest !== undefined,
    config: {
      User: c.User ?? '',
      uid,
      Env: c.Env ?? [],
      Entrypoint: c.Entrypoint ?? [],
      Cmd: c.Cmd ?? [],
      WorkingDir: c.WorkingDir ?? '',
      ExposedPorts: Object.keys(c.ExposedPorts ?? {}),
      Labels: labels,
    },
    labels,
    layers,
    size: layers.reduce((sum, l) => sum + l.size, 0),
    created: blob.created ?? '',
    os: blob.os ?? '',
    architecture: blob.architecture ?? '',
  };
}

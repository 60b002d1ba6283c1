import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SlipwayError } from '../core/errors.js';
import type { Digest } from '../core/types.js';
import {
  formatImageRef,
  isIndexType,
  manifestReference,
  MediaTypes,
  parseImageRef,
  sha256Digest,
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
  type ImageRef,
  type RegistryClient,
} from '../registry/index.js';
import { ensureBlob, type BlobLocation } from './blobs.js';
import { rewriteConfig, unwrapInjection, type ImageConfigJson } from './image-config.js';
import { scanLayers } from './scan.js';
import { buildSlipwayLayer, enforcerVersion, renderManifest, renderPolicy } from './slipway-layer.js';
import { DEFAULT_POLICY, type InjectedImage, type InjectOptions, type InjectProgress, type InjectResult, type RuntimePolicy } from './types.js';

/**
 * Default location of the enforcer binary: what `make -C enforcer` builds, in the checkout this module
 * belongs to (found upward from here, so it holds from `src/` under vitest and from `dist/src/` alike).
 */
export function defaultEnforcerPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'enforcer', 'Makefile'))) return join(dir, 'enforcer', 'build', 'enforcer');
    dir = dirname(dir);
  }
  return resolve('enforcer/build/enforcer');
}

/** The two single-image manifest families, each with its config and gzip layer media types. */
const FAMILIES: Record<string, { config: string; layer: string; annotate: boolean }> = {
  [MediaTypes.ociManifest]: { config: MediaTypes.ociConfig, layer: MediaTypes.ociLayerGzip, annotate: true },
  // Docker image manifest v2.2 descriptors have no annotations field: the config label is the marker there.
  [MediaTypes.dockerManifest]: { config: MediaTypes.dockerConfig, layer: MediaTypes.dockerLayerGzip, annotate: false },
};

/** Docker BuildKit's attestation manifests in an index ("unknown/unknown"): they describe the source image. */
const isAttestation = (d: Descriptor) => d.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest';

interface Job {
  source: BlobLocation;
  target: BlobLocation;
  enforcer: Buffer;
  version: string;
  policy: RuntimePolicy;
  policyBytes: Buffer;
  options: InjectOptions;
}

/**
 * Injects the micro-enforcer into an image in the registry, without a rebuild: reads the
 * image, builds its executable manifest from its layers, appends Slipway's layer, wraps the Entrypoint,
 * and pushes the result to `target` (under its tag, or by digest only when it has none). A
 * multi-platform index gets each linux/amd64 image injected and a new index; other platforms are
 * refused, since the enforcer is an x86_64 binary. Injecting an injected image replaces Slipway's layer.
 */
export async function injectEnforcer(
  client: RegistryClient,
  source: string | ImageRef,
  target: string | ImageRef,
  options: InjectOptions = {},
): Promise<InjectResult> {
  const src = typeof source === 'string' ? parseImageRef(source) : source;
  const dst = typeof target === 'string' ? parseImageRef(target) : target;
  const targetClient = options.targetClient ?? client;
  for (const [ref, c, what] of [
    [src, client, 'source'],
    [dst, targetClient, 'target'],
  ] as const) {
    if (ref.registry !== c.host) {
      throw new SlipwayError(
        'SLW_INJECT_UNSUPPORTED',
        `the ${what} ${formatImageRef(ref)} is on ${ref.registry}, but its registry client talks to ${c.host}; pass a client for ${ref.registry}${what === 'target' ? ' as targetClient' : ''}`,
      );
    }
  }
  const enforcer = await loadEnforcer(options.enforcerPath ?? defaultEnforcerPath());
  const policy: RuntimePolicy = { ...DEFAULT_POLICY, ...options.policy };
  const job: Job = {
    source: { client, repo: src.repository },
    target: { client: targetClient, repo: dst.repository },
    enforcer,
    version: enforcerVersion(enforcer),
    policy,
    policyBytes: renderPolicy(policy),
    options,
  };
  const signal = options.signal ? { signal: options.signal } : {};
  const top = await client.getManifest(src.repository, manifestReference(src), signal);
  const images: InjectedImage[] = [];
  let bytes: Buffer;
  if (isIndexType(top.mediaType)) {
    const index = top.json as unknown as ImageIndex;
    const children = (index.manifests ?? []).filter((d) => !isAttestation(d));
    const foreign = children.filter((d) => d.platform && !(d.platform.os === 'linux' && d.platform.architecture === 'amd64'));
    if (children.length === 0 || foreign.length > 0) {
      const platforms = foreign.map((d) => `${d.platform!.os}/${d.platform!.architecture}${d.platform!.variant ? `/${d.platform!.variant}` : ''}`);
      throw new SlipwayError(
        'SLW_INJECT_UNSUPPORTED',
        children.length === 0
          ? `${formatImageRef(src)} is an index without images`
          : `${formatImageRef(src)} has images for ${platforms.join(', ')}; the enforcer is built for linux/amd64 only, so inject a linux/amd64 image (or an index of only linux/amd64)`,
      );
    }
    const manifests: Descriptor[] = [];
    for (const child of children) {
      const m = await client.getManifest(src.repository, child.digest, signal);
      const injected = await injectImage(job, m.json as unknown as ImageManifest, m.mediaType, m.digest, undefined);
      images.push(injected.image);
      manifests.push({ ...child, digest: injected.image.digest, size: injected.size });
    }
    // Attestations are dropped: they are statements about the source images, not about the injected ones.
    bytes = Buffer.from(JSON.stringify({ ...index, manifests }));
  } else {
    const injected = await injectImage(job, top.json as unknown as ImageManifest, top.mediaType, top.digest, dst.tag);
    images.push(injected.image);
    return {
      digest: injected.image.digest,
      mediaType: top.mediaType,
      ref: `${dst.registry}/${dst.repository}@${injected.image.digest}`,
      images,
      enforcerVersion: job.version,
    };
  }
  options.onProgress?.({ phase: 'push', image: top.digest });
  const digest = await targetClient.putManifest(dst.repository, dst.tag ?? sha256Digest(bytes), bytes, top.mediaType, signal);
  return { digest, mediaType: top.mediaType, ref: `${dst.registry}/${dst.repository}@${digest}`, images, enforcerVersion: job.version };
}

async function loadEnforcer(path: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await readFile(resolve(path));
  } catch (err) {
    throw new SlipwayError(
      'SLW_INJECT_ENFORCER_MISSING',
      `cannot read the enforcer binary ${resolve(path)}: ${(err as Error).message}; build it with \`make -C enforcer\` (needs musl-tools) or pass enforcerPath`,
      { cause: err },
    );
  }
  if (!bytes.subarray(0, 4).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]))) {
    throw new SlipwayError('SLW_INJECT_ENFORCER_MISSING', `${resolve(path)} is not an ELF binary; point enforcerPath at enforcer/build/enforcer`);
  }
  return bytes;
}

/** One platform image: scan, build the layer, rewrite the config, push blobs and the manifest. */
async function injectImage(
  job: Job,
  manifest: ImageManifest,
  mediaType: string,
  sourceDigest: Digest,
  tag: string | undefined,
): Promise<{ image: InjectedImage; size: number }> {
  const { source, target, options } = job;
  const family = FAMILIES[mediaType];
  if (!family || !manifest.config?.digest) {
    throw new SlipwayError(
      'SLW_INJECT_UNSUPPORTED',
      `manifest ${sourceDigest} has media type ${mediaType}; only OCI image manifests and Docker image manifests v2.2 can be injected`,
    );
  }
  const signal = options.signal ? { signal: options.signal } : {};
  const progress = (p: Omit<InjectProgress, 'image'>) => options.onProgress?.({ ...p, image: sourceDigest });
  progress({ phase: 'manifest' });
  const sourceConfig = JSON.parse((await source.client.getBlobBytes(source.repo, manifest.config.digest, signal)).toString('utf8')) as ImageConfigJson;
  if (sourceConfig.os !== 'linux' || sourceConfig.architecture !== 'amd64') {
    throw new SlipwayError(
      'SLW_INJECT_UNSUPPORTED',
      `image ${sourceDigest} is for ${sourceConfig.os}/${sourceConfig.architecture}; the enforcer is built for linux/amd64 only`,
    );
  }
  const { config: unwrapped, removedLayer } = unwrapInjection(sourceConfig);
  const layers = (manifest.layers ?? []).filter((_, i) => i !== removedLayer);
  // A layerless image (`FROM scratch` alone) may carry diff_ids: null.
  const diffIds = unwrapped.rootfs?.diff_ids ?? [];
  if (layers.length !== diffIds.length) {
    throw new SlipwayError(
      'SLW_INJECT_UNSUPPORTED',
      `image ${sourceDigest} lists ${layers.length} layers but its config has ${diffIds.length} diff_ids; the image is inconsistent`,
    );
  }

  // Copying or mounting the kept layers overlaps with reading them; its failure is reported after the scan.
  const copies = Promise.allSettled(layers.map((l) => ensureBlob(source, target, l, options.signal)));
  const scanned = await scanLayers(source.client, source.repo, layers, diffIds, {
    ...signal,
    ...(options.scanCache ? { cache: options.scanCache } : {}),
    onLayer: (i, cached) => progress({ phase: 'layer', layer: i + 1, layers: layers.length, cached }),
  }).catch(async (err: unknown) => {
    await copies;
    throw err;
  });
  const { fs } = scanned;
  const rendered = renderManifest(fs.executables());
  const layer = buildSlipwayLayer(job.enforcer, rendered.bytes, job.policyBytes);

  progress({ phase: 'upload' });
  const config = rewriteConfig(unwrapped, {
    diffId: layer.diffId,
    enforcerVersion: job.version,
    mode: job.policy.mode,
    executables: rendered.listed,
    labels: options.labels ?? {},
  });
  const configBytes = Buffer.from(JSON.stringify(config));
  // Slipway's layer and the config go up while the source layers are still being mounted: the blobs are
  // independent, and only the manifest, pushed last, needs all of them. With cached scans these round
  // trips are most of what injection costs.
  const uploads = Promise.allSettled([target.client.uploadBlob(target.repo, layer.blob, signal), target.client.uploadBlob(target.repo, configBytes, signal)]);
  const failed = [...(await copies), ...(await uploads)].find((r) => r.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
  const configDigest = sha256Digest(configBytes);

  const slipwayDescriptor: Descriptor = {
    mediaType: family.layer,
    digest: layer.digest,
    size: layer.blob.length,
    ...(family.annotate ? { annotations: { 'dev.slipway.enforcer.layer': job.version } } : {}),
  };
  const out = { ...manifest, config: { ...manifest.config, digest: configDigest, size: configBytes.length }, layers: [...layers, slipwayDescriptor] };
  const bytes = Buffer.from(JSON.stringify(out));
  progress({ phase: 'push' });
  const digest = await target.client.putManifest(target.repo, tag ?? sha256Digest(bytes), bytes, mediaType, signal);
  return {
    size: bytes.length,
    image: {
      source: sourceDigest,
      digest,
      executables: rendered.listed,
      files: fs.stats.files,
      layers: layers.length + 1,
      cachedLayers: scanned.cachedLayers,
      replaced: removedLayer >= 0,
      skipped: rendered.skipped,
    },
  };
}

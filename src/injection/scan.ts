import { createHash } from 'node:crypto';
import { pipeline, type Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { SlipwayError } from '../core/errors.js';
import { MediaTypes, type Descriptor, type RegistryClient } from '../registry/index.js';
import { describeEntry, LayeredFilesystem, type LayerChange } from './filesystem.js';
import type { LayerCompression, LayerScanCache } from './scan-cache.js';
import { readTar } from './tar-reader.js';

export interface ScanOptions {
  signal?: AbortSignal;
  /** Before each layer: its index, and whether its scan comes from the cache (no download). */
  onLayer?: (index: number, cached: boolean) => void;
  /** Where layer scans are looked up and recorded. Default: none, every layer is read. */
  cache?: LayerScanCache;
}

export interface ScanResult {
  fs: LayeredFilesystem;
  /** How many layers were replayed from the cache instead of read. */
  cachedLayers: number;
}

const GZIP = new Set<string>([
  MediaTypes.ociLayerGzip,
  MediaTypes.dockerLayerGzip,
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
]);
const PLAIN = new Set<string>([MediaTypes.ociLayer, 'application/vnd.oci.image.layer.nondistributable.v1.tar']);
const ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd';

/** How a layer media type is decompressed (OCI image-spec layer.md, "Media Types"). */
export function compressionOf(layer: Descriptor): LayerCompression {
  if (GZIP.has(layer.mediaType)) return 'gzip';
  if (PLAIN.has(layer.mediaType)) return 'none';
  // zstd layers need Node's zstd binding (Node 22.15+); on Node 20 they are refused with a reason, even
  // when a cache shared with a newer Node holds their scan: the cache must not change what is accepted.
  if (layer.mediaType === ZSTD && zstdDecompress()) return 'zstd';
  throw new SlipwayError(
    'SLW_INJECT_UNSUPPORTED',
    `layer ${layer.digest} has media type ${layer.mediaType}, which this Node.js cannot decompress; rebuild the image with gzip layers`,
  );
}

const zstdDecompress = () => (zlib as unknown as { createZstdDecompress?: () => NodeJS.ReadWriteStream }).createZstdDecompress;

function decompressor(compression: LayerCompression): NodeJS.ReadWriteStream | undefined {
  if (compression === 'gzip') return zlib.createGunzip();
  if (compression === 'zstd') return zstdDecompress()!();
  return undefined;
}

/**
 * Streams the image's layers in order through the filesystem model: blob (digest-verified by the
 * registry client) → decompressor → tar reader, never more than a chunk in memory. Each layer's
 * uncompressed bytes are hashed and checked against `rootfs.diff_ids` (OCI image-spec config.md),
 * so the executable manifest describes exactly the filesystem the runtime will unpack.
 */
export async function scanLayers(
  client: RegistryClient,
  repo: string,
  layers: readonly Descriptor[],
  diffIds: readonly string[],
  opts: ScanOptions = {},
): Promise<ScanResult> {
  const fs = new LayeredFilesystem();
  const { cache } = opts;
  let cachedLayers = 0;
  for (const [i, layer] of layers.entries()) {
    const compression = compressionOf(layer);
    // Used only when the diff_id it measured is the one the config claims: otherwise the layer is read,
    // and the read decides (a full scan refuses an image whose layer does not match its diff_id).
    const hit = await cache?.get(layer.digest, compression);
    const cached = hit !== undefined && hit.diffId === diffIds[i];
    opts.onLayer?.(i, cached);
    fs.beginLayer();
    const where = (err: unknown) => {
      if (err instanceof SlipwayError && err.code === 'SLW_INJECT_LAYER') err.message = `layer ${i + 1} (${layer.digest}): ${err.message}`;
      return err;
    };
    if (cached) {
      try {
        for (const change of hit.changes) fs.applyChange(change);
      } catch (err) {
        throw where(err);
      }
      cachedLayers++;
      continue;
    }
    const { diffId, changes } = await readLayer(client, repo, layer, compression, fs, cache?.entryBudget, opts.signal).catch((err: unknown) => {
      throw where(err);
    });
    if (diffId !== diffIds[i]) {
      throw new SlipwayError(
        'SLW_INJECT_LAYER',
        `layer ${i + 1} (${layer.digest}) uncompresses to ${diffId}, but the config's rootfs.diff_ids[${i}] says ${diffIds[i]}; the image is inconsistent`,
      );
    }
    if (changes) await cache?.put(layer.digest, compression, { diffId, changes });
  }
  return { fs, cachedLayers };
}

/** A layer's uncompressed tar stream (blob digest-verified by the client); destroy both when done. */
export async function openLayerTar(
  client: RegistryClient,
  repo: string,
  layer: Descriptor,
  compression: LayerCompression,
  signal?: AbortSignal,
): Promise<{ blob: Readable; tar: Readable }> {
  const blob = await client.getBlob(repo, layer.digest, { size: layer.size, ...(signal ? { signal } : {}) });
  const unzip = decompressor(compression);
  return { blob, tar: unzip ? (pipeline(blob, unzip, () => undefined) as unknown as Readable) : blob };
}

/**
 * One layer through the filesystem model: blob (digest-verified by the registry client) → decompressor
 * → tar reader, hashing the uncompressed bytes for the diff_id check. Collects the layer's changes for
 * the cache unless they outgrow `budget` (serialized bytes, roughly), and then stops collecting.
 */
async function readLayer(
  client: RegistryClient,
  repo: string,
  layer: Descriptor,
  compression: LayerCompression,
  fs: LayeredFilesystem,
  budget: number | undefined,
  signal: AbortSignal | undefined,
): Promise<{ diffId: string; changes: LayerChange[] | undefined }> {
  const { blob, tar } = await openLayerTar(client, repo, layer, compression, signal);
  const hash = createHash('sha256');
  const hashed = (async function* () {
    for await (const chunk of tar) {
      hash.update(chunk as Buffer);
      yield chunk as Buffer;
    }
  })();
  let changes: LayerChange[] | undefined = budget === undefined ? undefined : [];
  let size = 0;
  try {
    for await (const entry of readTar(hashed)) {
      const change = await describeEntry(entry);
      fs.applyChange(change);
      if (!changes) continue;
      // Name, link, hash and JSON punctuation: close enough to the serialized size to bound it.
      size += change.name.length + ('linkname' in change ? change.linkname.length : 0) + 100;
      if (size > budget!) changes = undefined;
      else changes.push(change);
    }
  } finally {
    tar.destroy();
    blob.destroy();
  }
  return { diffId: `sha256:${hash.digest('hex')}`, changes };
}

import { createHash } from 'node:crypto';
import { pipeline, type Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { SlipwayError } from '../core/errors.js';
import { MediaTypes, type Descriptor, type RegistryClient } from '../registry/index.js';
import { LayeredFilesystem } from './filesystem.js';
import { readTar } from './tar-reader.js';

export interface ScanOptions {
  signal?: AbortSignal;
  onLayer?: (index: number) => void;
}

const GZIP = new Set<string>([
  MediaTypes.ociLayerGzip,
  MediaTypes.dockerLayerGzip,
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
]);
const PLAIN = new Set<string>([MediaTypes.ociLayer, 'application/vnd.oci.image.layer.nondistributable.v1.tar']);
const ZSTD = 'application/vnd.oci.image.layer.v1.tar+zstd';

/** The decompressor for a layer media type (OCI image-spec layer.md, "Media Types"). */
function decompressor(layer: Descriptor): NodeJS.ReadWriteStream | undefined {
  if (GZIP.has(layer.mediaType)) return zlib.createGunzip();
  if (PLAIN.has(layer.mediaType)) return undefined;
  // zstd layers need Node's zstd binding (Node 22.15+); on Node 20 they are refused with a reason.
  const zstd = (zlib as unknown as { createZstdDecompress?: () => NodeJS.ReadWriteStream }).createZstdDecompress;
  if (layer.mediaType === ZSTD && zstd) return zstd();
  throw new SlipwayError('SLW_INJECT_UNSUPPORTED', `layer ${layer.digest} has media type ${layer.mediaType}, which this Node.js cannot decompress; rebuild the image with gzip layers`);
}

/**
 * Streams the image's layers in order through the filesystem model: blob (digest-verified by the
 * registry client) → decompressor → tar reader, never more than a chunk in memory. Each layer's
 * uncompressed bytes are hashed and checked against `rootfs.diff_ids` (OCI image-spec config.md),
 * so the executable manifest describes exactly the filesystem the runtime will unpack.
 */
export async function scanLayers(client: RegistryClient, repo: string, layers: readonly Descriptor[], diffIds: readonly string[], opts: ScanOptions = {}): Promise<LayeredFilesystem> {
  const fs = new LayeredFilesystem();
  for (const [i, layer] of layers.entries()) {
    opts.onLayer?.(i);
    fs.beginLayer();
    const blob = await client.getBlob(repo, layer.digest, { size: layer.size, ...(opts.signal ? { signal: opts.signal } : {}) });
    const unzip = decompressor(layer);
    const tar: Readable = unzip ? (pipeline(blob, unzip, () => undefined) as unknown as Readable) : blob;
    const hash = createHash('sha256');
    const hashed = (async function* () {
      for await (const chunk of tar) {
        hash.update(chunk as Buffer);
        yield chunk as Buffer;
      }
    })();
    try {
      for await (const entry of readTar(hashed)) await fs.apply(entry);
    } catch (err) {
      if (err instanceof SlipwayError && err.code === 'SLW_INJECT_LAYER') err.message = `layer ${i + 1} (${layer.digest}): ${err.message}`;
      throw err;
    } finally {
      tar.destroy();
      blob.destroy();
    }
    const diffId = `sha256:${hash.digest('hex')}`;
    if (diffId !== diffIds[i]) {
      throw new SlipwayError('SLW_INJECT_LAYER', `layer ${i + 1} (${layer.digest}) uncompresses to ${diffId}, but the config's rootfs.diff_ids[${i}] says ${diffIds[i]}; the image is inconsistent`);
    }
  }
  return fs;
}

import { gunzipSync } from 'node:zlib';

/** The local test registry (scripts/lib/services.sh). */
export const REGISTRY = 'http://127.0.0.1:5000';
export const REGISTRY_HOST = '127.0.0.1:5000';
export const BASE_IMAGE = '127.0.0.1:5000/slipway/busybox:latest';

const ACCEPT = ['application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.oci.image.manifest.v1+json'].join(', ');

export interface PulledImage {
  manifest: { config: { digest: string }; layers: { digest: string; mediaType: string }[] };
  config: { config?: { Labels?: Record<string, string> | null; Env?: string[] }; history?: { created_by?: string }[] };
  /** The config blob as stored: searched for leaked secrets too. */
  configBytes: Buffer;
  /** Uncompressed layer tarballs, base first. */
  layers: Buffer[];
  /** The files of the final filesystem (later layers win), path without leading slash → content. */
  files: Map<string, Buffer>;
}

async function get(url: string, accept?: string): Promise<Buffer> {
  const res = await fetch(url, accept ? { headers: { accept } } : {});
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

/** `127.0.0.1:5000/slipway/x@sha256:…` or repository path + digest → the image, read straight from the registry. */
export async function pullImage(repository: string, digest: string): Promise<PulledImage> {
  const repo = repository.replace(`${REGISTRY_HOST}/`, '');
  const manifest = JSON.parse((await get(`${REGISTRY}/v2/${repo}/manifests/${digest}`, ACCEPT)).toString()) as PulledImage['manifest'];
  const configBytes = await get(`${REGISTRY}/v2/${repo}/blobs/${manifest.config.digest}`);
  const layers: Buffer[] = [];
  const files = new Map<string, Buffer>();
  for (const layer of manifest.layers) {
    const blob = await get(`${REGISTRY}/v2/${repo}/blobs/${layer.digest}`);
    const tar = layer.mediaType.includes('gzip') ? gunzipSync(blob) : blob;
    layers.push(tar);
    for (const [path, content] of readTar(tar)) files.set(path, content);
  }
  return { manifest, config: JSON.parse(configBytes.toString()), configBytes, layers, files };
}

/** HEAD of a manifest by digest: 200 when the registry has it. */
export async function manifestStatus(repository: string, digest: string): Promise<number> {
  const repo = repository.replace(`${REGISTRY_HOST}/`, '');
  return (await fetch(`${REGISTRY}/v2/${repo}/manifests/${digest}`, { method: 'HEAD', headers: { accept: ACCEPT } })).status;
}

/** Regular files of a ustar/pax tarball (enough for image layers; PAX `path` records honoured). */
function readTar(tar: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  let offset = 0;
  let paxPath: string | undefined;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start: number, len: number) =>
      header
        .subarray(start, start + len)
        .toString('utf8')
        .replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = String.fromCharCode(header[156]!);
    const prefix = field(345, 155);
    const name = paxPath ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
    const body = tar.subarray(offset + 512, offset + 512 + size);
    paxPath = undefined;
    if (type === 'x') {
      paxPath = /\d+ path=([^\n]*)\n/.exec(body.toString('utf8'))?.[1];
    } else if (type === '0' || type === '\0') {
      files.set(name.replace(/^\.?\//, ''), Buffer.from(body));
    }
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { SlipwayError } from '../core/errors.js';
import type { Digest } from '../core/types.js';
import { DigestVerifier, sha256Digest } from './digest.js';
import { MANIFEST_ACCEPT, MediaTypes, type ImageIndex } from './media-types.js';
import { RegistryTransport, type RegistryTransportOptions } from './transport.js';

export interface ManifestResult {
  digest: Digest;
  mediaType: string;
  /** The exact bytes: a manifest's digest is over these, never over re-serialized JSON. */
  bytes: Buffer;
  json: Record<string, unknown>;
}

export interface ManifestHead {
  digest: Digest;
  mediaType: string;
  size: number;
}

export interface UploadOptions {
  signal?: AbortSignal;
}

const pull = (repo: string) => `repository:${repo}:pull`;
const push = (repo: string) => `repository:${repo}:pull,push`;
/** Chunk size of streamed uploads: big enough to be few requests, small enough to hold in memory. */
const CHUNK = 8 * 1024 * 1024;

/**
 * OCI distribution client for one registry host (distribution-spec v1.1): manifests, blobs (streamed and
 * verified), monolithic and chunked uploads, cross-repository mounts, tags and referrers with the
 * tag-schema fallback. Every manifest and blob read is checked against its digest.
 */
export class RegistryClient {
  readonly http: RegistryTransport;

  constructor(readonly options: RegistryTransportOptions) {
    this.http = new RegistryTransport(options);
  }

  get host(): string {
    return this.options.host;
  }

  async getManifest(repo: string, reference: string, opts: { accept?: string[]; signal?: AbortSignal } = {}): Promise<ManifestResult> {
    const res = await this.http.request({
      method: 'GET',
      path: `/v2/${repo}/manifests/${reference}`,
      scopes: [pull(repo)],
      headers: { accept: (opts.accept ?? MANIFEST_ACCEPT).join(', ') },
      ok: [200],
      signal: opts.signal,
    });
    const bytes = Buffer.from(await res.arrayBuffer());
    const digest = sha256Digest(bytes);
    const claimed = res.headers.get('docker-content-digest');
    const expected = reference.startsWith('sha256:') ? reference : claimed;
    if (expected && expected !== digest) {
      throw new SlipwayError('SLW_REGISTRY_DIGEST_MISMATCH', `manifest ${repo}@${reference} from ${this.host} has digest ${digest}, expected ${expected}`);
    }
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new SlipwayError('SLW_REGISTRY_REJECTED', `manifest ${repo}@${reference} from ${this.host} is not JSON`, { cause: err });
    }
    const mediaType =
      (typeof json.mediaType === 'string' ? json.mediaType : undefined) ?? res.headers.get('content-type')?.split(';')[0] ?? MediaTypes.ociManifest;
    return { digest, mediaType, bytes, json };
  }

  /** HEAD of a manifest; undefined when the registry does not have it. */
  async headManifest(repo: string, reference: string, opts: { signal?: AbortSignal } = {}): Promise<ManifestHead | undefined> {
    const res = await this.http.request({
      method: 'HEAD',
      path: `/v2/${repo}/manifests/${reference}`,
      scopes: [pull(repo)],
      headers: { accept: MANIFEST_ACCEPT.join(', ') },
      ok: [200, 404],
      signal: opts.signal,
    });
    if (res.status === 404) return undefined;
    const digest = res.headers.get('docker-content-digest') ?? (reference.startsWith('sha256:') ? reference : undefined);
    if (!digest)
      throw new SlipwayError(
        'SLW_REGISTRY_REJECTED',
        `${this.host} answered HEAD ${repo}:${reference} without Docker-Content-Digest; GET the manifest instead`,
      );
    return { digest: digest as Digest, mediaType: res.headers.get('content-type')?.split(';')[0] ?? '', size: Number(res.headers.get('content-length') ?? 0) };
  }

  /** Puts a manifest under a tag or its digest; returns its digest (computed here, checked against the registry's). */
  async putManifest(repo: string, reference: string, bytes: Buffer, mediaType: string, opts: { signal?: AbortSignal } = {}): Promise<Digest> {
    const digest = sha256Digest(bytes);
    if (reference.startsWith('sha256:') && reference !== digest) {
      throw new SlipwayError('SLW_REGISTRY_DIGEST_MISMATCH', `manifest bytes have digest ${digest}, not ${reference}`);
    }
    const res = await this.http.request({
      method: 'PUT',
      path: `/v2/${repo}/manifests/${reference}`,
      scopes: [push(repo)],
      headers: { 'content-type': mediaType },
      body: bytes,
      ok: [201, 200],
      signal: opts.signal,
    });
    await res.body?.cancel();
    const claimed = res.headers.get('docker-content-digest');
    if (claimed && claimed !== digest) throw new SlipwayError('SLW_REGISTRY_DIGEST_MISMATCH', `${this.host} stored manifest as ${claimed}, we sent ${digest}`);
    return digest;
  }

  async deleteManifest(repo: string, digest: Digest): Promise<void> {
    const res = await this.http.request({
      method: 'DELETE',
      path: `/v2/${repo}/manifests/${digest}`,
      scopes: [`repository:${repo}:delete`, push(repo)],
      ok: [202, 200, 404],
    });
    await res.body?.cancel();
  }

  async blobExists(repo: string, digest: string, opts: { signal?: AbortSignal } = {}): Promise<boolean> {
    const res = await this.http.request({ method: 'HEAD', path: `/v2/${repo}/blobs/${digest}`, scopes: [pull(repo)], ok: [200, 404], signal: opts.signal });
    return res.status === 200;
  }

  /**
   * Streams a blob (following the registry's redirect to storage), verified against its digest as it
   * flows: the stream errors at its end if the bytes are not the blob asked for. Never whole in memory.
   */
  async getBlob(repo: string, digest: string, opts: { size?: number; signal?: AbortSignal } = {}): Promise<Readable> {
    const res = await this.http.request({ method: 'GET', path: `/v2/${repo}/blobs/${digest}`, scopes: [pull(repo)], ok: [200], signal: opts.signal });
    if (!res.body) throw new SlipwayError('SLW_REGISTRY', `${this.host} sent no body for blob ${digest}`);
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
    const verifier = new DigestVerifier(digest, `blob ${repo}@${digest}`, opts.size);
    body.on('error', (err) => verifier.destroy(err));
    return body.pipe(verifier);
  }

  /** A small blob (a config, a manifest-sized JSON) read whole and verified. */
  async getBlobBytes(repo: string, digest: string, opts: { maxBytes?: number; signal?: AbortSignal } = {}): Promise<Buffer> {
    const max = opts.maxBytes ?? 16 * 1024 * 1024;
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of await this.getBlob(repo, digest, opts.signal ? { signal: opts.signal } : {})) {
      size += (chunk as Buffer).length;
      if (size > max) throw new SlipwayError('SLW_REGISTRY_REJECTED', `blob ${digest} is larger than ${max} bytes; it is not a config`);
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }

  /**
   * Mounts a blob from another repository of the same registry (no bytes move). False when the
   * registry would not mount it (the caller uploads instead).
   */
  async mountBlob(repo: string, digest: string, fromRepo: string): Promise<boolean> {
    const res = await this.http.request({
      method: 'POST',
      path: `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(fromRepo)}`,
      scopes: [push(repo), pull(fromRepo)],
      ok: [201, 202],
    });
    await res.body?.cancel();
    if (res.status === 201) return true;
    // 202: the registry opened an upload session instead; close it so it does not linger.
    const location = res.headers.get('location');
    if (location)
      await this.http
        .request({ method: 'DELETE', path: this.resolve(location), scopes: [push(repo)], ok: [204, 200, 404] })
        .then((r) => r.body?.cancel())
        .catch(() => undefined);
    return false;
  }

  /** Uploads a blob held in memory in one request (skipped when the registry already has it). */
  async uploadBlob(repo: string, data: Buffer, opts: UploadOptions = {}): Promise<Digest> {
    const digest = sha256Digest(data);
    if (await this.blobExists(repo, digest, opts)) return digest;
    const location = await this.startUpload(repo, opts.signal);
    const res = await this.http.request({
      method: 'PUT',
      path: this.withQuery(location, { digest }),
      scopes: [push(repo)],
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(data.length) },
      body: data,
      ok: [201],
      signal: opts.signal,
    });
    await res.body?.cancel();
    return digest;
  }

  /**
   * Uploads a blob from a stream in chunks (PATCH with Content-Range, then PUT with the digest), so a
   * layer of any size passes through in at most one chunk of memory.
   */
  async uploadBlobStream(repo: string, digest: Digest, source: AsyncIterable<Buffer | Uint8Array>, opts: UploadOptions = {}): Promise<Digest> {
    if (await this.blobExists(repo, digest, opts)) {
      for await (const _ of source) void _; // drain so the producer finishes
      return digest;
    }
    let location = await this.startUpload(repo, opts.signal);
    let offset = 0;
    let pending: Buffer[] = [];
    let pendingSize = 0;
    const hash = createHash('sha256');
    const flush = async () => {
      if (pendingSize === 0) return;
      const chunk = Buffer.concat(pending, pendingSize);
      pending = [];
      pendingSize = 0;
      const res = await this.http.request({
        method: 'PATCH',
        path: location,
        scopes: [push(repo)],
        headers: {
          'content-type': 'application/octet-stream',
          'content-range': `${offset}-${offset + chunk.length - 1}`,
          'content-length': String(chunk.length),
        },
        body: chunk,
        ok: [202],
        signal: opts.signal,
      });
      await res.body?.cancel();
      offset += chunk.length;
      location = this.resolve(res.headers.get('location') ?? location);
    };
    for await (const piece of source) {
      const buf = Buffer.isBuffer(piece) ? piece : Buffer.from(piece);
      hash.update(buf);
      pending.push(buf);
      pendingSize += buf.length;
      if (pendingSize >= CHUNK) await flush();
    }
    await flush();
    // Fails here, before the registry is asked to commit, when the stream was not the promised content.
    const actual = `sha256:${hash.digest('hex')}`;
    if (actual !== digest) {
      throw new SlipwayError(
        'SLW_REGISTRY_DIGEST_MISMATCH',
        `the uploaded stream has digest ${actual}, not the promised ${digest}; the upload was not committed`,
      );
    }
    const res = await this.http.request({
      method: 'PUT',
      path: this.withQuery(location, { digest }),
      scopes: [push(repo)],
      headers: { 'content-length': '0' },
      ok: [201],
      signal: opts.signal,
    });
    await res.body?.cancel();
    return digest;
  }

  async listTags(repo: string): Promise<string[]> {
    const res = await this.http.request({ method: 'GET', path: `/v2/${repo}/tags/list`, scopes: [pull(repo)], ok: [200, 404] });
    if (res.status === 404) return [];
    const body = (await res.json()) as { tags?: string[] | null };
    return body.tags ?? [];
  }

  /**
   * Manifests that refer to `digest` (signatures, SBOMs): the referrers API where the registry has it,
   * else the tag schema (`sha256-<hex>` holding an index), as distribution-spec v1.1 prescribes.
   */
  async referrers(repo: string, digest: Digest, artifactType?: string): Promise<ImageIndex> {
    const query = artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : '';
    const res = await this.http.request({ method: 'GET', path: `/v2/${repo}/referrers/${digest}${query}`, scopes: [pull(repo)], ok: [200, 404] });
    let index: ImageIndex;
    if (res.status === 200) {
      index = (await res.json()) as ImageIndex;
    } else {
      await res.body?.cancel();
      const tag = digest.replace(':', '-');
      const head = await this.headManifest(repo, tag);
      index = head
        ? ((await this.getManifest(repo, tag, { accept: [MediaTypes.ociIndex] })).json as unknown as ImageIndex)
        : { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [] };
    }
    const manifests = (index.manifests ?? []).filter((m) => !artifactType || m.artifactType === artifactType);
    return { ...index, manifests };
  }

  private async startUpload(repo: string, signal?: AbortSignal): Promise<string> {
    const res = await this.http.request({
      method: 'POST',
      path: `/v2/${repo}/blobs/uploads/`,
      scopes: [push(repo)],
      headers: { 'content-length': '0' },
      ok: [202],
      signal,
    });
    await res.body?.cancel();
    const location = res.headers.get('location');
    if (!location) throw new SlipwayError('SLW_REGISTRY', `${this.host} opened an upload without a Location header`);
    return this.resolve(location);
  }

  /** Upload locations may be relative to the registry root. */
  private resolve(location: string): string {
    return new URL(location, this.http.baseUrl).href;
  }

  private withQuery(location: string, params: Record<string, string>): string {
    const url = new URL(location, this.http.baseUrl);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    return url.href;
  }
}

import type { Digest } from '../core/types.js';
import { MediaTypes, sha256Digest, type Descriptor, type ImageManifest } from '../registry/index.js';

/**
 * The `.sig` object (SIGNATURE_SPEC "Storage"): one OCI image manifest per signed digest, tagged
 * `sha256-<hex>.sig`, holding every signature as one layer: the payload blob, media type
 * `application/vnd.dev.cosign.simplesigning.v1+json`, the base64 signature in the layer annotation
 * `dev.cosignproject.cosign/signature`. Its config is the go-containerregistry config cosign's
 * `mutate.Append` leaves (rootfs diff_ids = the payload digests); verifiers never read it.
 */

export const SIMPLE_SIGNING_MEDIA_TYPE = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
/** pkg/oci/static/signature.go: keyless signatures carry these too (we keep them, never write them). */
export const CERTIFICATE_ANNOTATION = 'dev.sigstore.cosign/certificate';

/** Tag-based discovery: `sha256:<hex>` → `sha256-<hex>.sig`. */
export function signatureTag(digest: Digest): string {
  return `${digest.replace(':', '-')}.sig`;
}

export interface SignatureLayer extends Descriptor {
  annotations: Record<string, string>;
}

export function signatureLayer(payload: Buffer, signatureB64: string, extra: Record<string, string> = {}): SignatureLayer {
  return {
    mediaType: SIMPLE_SIGNING_MEDIA_TYPE,
    size: payload.length,
    digest: sha256Digest(payload),
    annotations: { [SIGNATURE_ANNOTATION]: signatureB64, ...extra },
  };
}

/** Same payload and same signature bytes: the layer a signer wrote, found again. */
export const sameLayer = (a: Descriptor, b: Descriptor): boolean =>
  a.digest === b.digest && a.annotations?.[SIGNATURE_ANNOTATION] === b.annotations?.[SIGNATURE_ANNOTATION];

/** The config blob for these layers: Go's struct field order, zero times as Go prints them. */
export function signatureConfig(layers: readonly Descriptor[], created: Date): Buffer {
  const history = layers.map(() => ({ created: '0001-01-01T00:00:00Z' }));
  return Buffer.from(
    JSON.stringify({
      architecture: '',
      created: created.toISOString(),
      history,
      os: '',
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
      config: {},
    }),
  );
}

/** Manifest bytes, fields in go-containerregistry's order (schemaVersion, mediaType, config, layers). */
export function signatureManifest(config: Buffer, layers: readonly Descriptor[]): Buffer {
  const descriptor = (d: Descriptor) => ({ mediaType: d.mediaType, size: d.size, digest: d.digest, ...(d.annotations ? { annotations: d.annotations } : {}) });
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaTypes.ociManifest,
    config: { mediaType: MediaTypes.ociConfig, size: config.length, digest: sha256Digest(config) },
    layers: layers.map(descriptor),
  };
  return Buffer.from(JSON.stringify(manifest));
}

/** The layers of a stored `.sig` manifest (any layer kind: a rewrite must keep what it does not understand). */
export function layersOf(json: Record<string, unknown>): Descriptor[] {
  const layers = (json as Partial<ImageManifest>).layers;
  return Array.isArray(layers) ? layers.filter((l): l is Descriptor => typeof l?.digest === 'string' && typeof l.mediaType === 'string') : [];
}

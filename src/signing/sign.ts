import { SlipwayError } from '../core/errors.js';
import type { Digest } from '../core/types.js';
import { formatImageRef, sha256Digest, type ImageRef, type RegistryClient } from '../registry/index.js';
import { appendSignatureLayer, readSignatureSet, type AppendOptions } from './append.js';
import type { SigningKey } from './keys.js';
import { simpleSigningPayload } from './payload.js';
import { requireDigestRef } from './reference.js';
import { SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE, signatureLayer, signatureTag } from './signature-manifest.js';
import { keysVerifying, signPayload } from './signature.js';

export interface SignOptions extends AppendOptions {
  /**
   * Repository (on the same registry) that holds the `.sig`, as cosign's COSIGN_REPOSITORY does.
   * Default: the image's own repository.
   */
  signatureRepository?: string;
  /** `optional` claims of the payload (`cosign sign -a key=value`). Default none (`"optional":null`). */
  annotations?: Record<string, string>;
}

export interface SignResult {
  /** `registry/repository@sha256:…` that was signed. */
  image: string;
  digest: Digest;
  signatureRepository: string;
  /** `sha256-<hex>.sig` */
  signatureTag: string;
  /** Digest of the `.sig` manifest after the signing. */
  manifestDigest: Digest;
  payloadDigest: Digest;
  /** Base64 DER signature stored in the layer annotation. */
  signature: string;
  /** Fingerprint of the public key that verifies it. */
  keyFingerprint: string;
  /** False when a signature by this key over the same payload was already there (signing is idempotent). */
  added: boolean;
  /** Signatures the `.sig` manifest holds now. */
  signatures: number;
}

/**
 * Signs an image by digest the way `cosign sign --key` does and stores the signature under
 * `sha256-<hex>.sig`, keeping every signature already there. Signing again with the same key is a
 * no-op that returns the existing signature (as cosign's dupe detector does), so a retried pipeline
 * stage does not pile up layers.
 */
export async function signImage(client: RegistryClient, ref: string | ImageRef, key: SigningKey, opts: SignOptions = {}): Promise<SignResult> {
  const image = requireDigestRef(ref, 'sign');
  const signal = opts.signal;
  if (!(await client.headManifest(image.repository, image.digest, signal ? { signal } : {}))) {
    throw new SlipwayError('SLW_REGISTRY_NOT_FOUND', `${formatImageRef(image)} is not in the registry: there is nothing to sign; push the image first`);
  }
  const repo = opts.signatureRepository ?? image.repository;
  const payload = simpleSigningPayload(image.registry, image.repository, image.digest, opts.annotations);
  const payloadDigest = sha256Digest(payload);
  const base = {
    image: formatImageRef(image),
    digest: image.digest,
    signatureRepository: repo,
    signatureTag: signatureTag(image.digest),
    payloadDigest,
    keyFingerprint: key.publicKey.fingerprint,
  };

  const existing = await readSignatureSet(client, repo, image.digest, signal);
  const mine = existing.layers.find((l) => {
    const sig = l.annotations?.[SIGNATURE_ANNOTATION];
    return (
      l.mediaType === SIMPLE_SIGNING_MEDIA_TYPE && l.digest === payloadDigest && sig !== undefined && keysVerifying(payload, sig, [key.publicKey]).length > 0
    );
  });
  if (mine && existing.manifestDigest) {
    return {
      ...base,
      manifestDigest: existing.manifestDigest,
      signature: mine.annotations![SIGNATURE_ANNOTATION]!,
      added: false,
      signatures: existing.layers.length,
    };
  }

  const signature = signPayload(key, payload);
  await client.uploadBlob(repo, payload, signal ? { signal } : {});
  const result = await appendSignatureLayer(client, repo, image.digest, signatureLayer(payload, signature), { ...opts, initial: existing });
  return { ...base, manifestDigest: result.manifestDigest, signature, added: true, signatures: result.layers.length };
}

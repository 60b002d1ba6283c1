import { isSlipwayError } from '../core/errors.js';
import type { Digest } from '../core/types.js';
import type { Descriptor, ImageRef, RegistryClient } from '../registry/index.js';
import { readSignatureSet } from './append.js';
import { VerificationCache } from './cache.js';
import type { TrustedKey } from './keys.js';
import { dockerReference, normalizeIdentity, parsePayload } from './payload.js';
import { requireDigestRef } from './reference.js';
import { SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE, signatureTag } from './signature-manifest.js';
import { keysVerifying } from './signature.js';

/** What one signature proved, or why it proved nothing. */
export interface SignatureCheck {
  /** Digest of the payload blob (the layer). */
  payloadDigest: string;
  /** `critical.identity.docker-reference` of the payload, when it could be read. */
  identity: string | undefined;
  verified: boolean;
  /** Ids of the trusted keys that verify the signature (empty when none does). */
  keyIds: string[];
  /** Why this signature does not count; undefined when verified. */
  reason: string | undefined;
}

export interface VerifyResult {
  /** True when at least one signature passes every check with a trusted key. */
  verified: boolean;
  digest: Digest;
  /** Ids of the trusted keys behind the signatures that verified. */
  keyIds: string[];
  /** Why signatures did not count (one line each), or why there were none to check. */
  reasons: string[];
  signatures: SignatureCheck[];
  /** True when this came from the verification cache. */
  cached: boolean;
}

export interface ExpectedClaims {
  digest: Digest;
  /** Accepted `docker-reference` values (`registry/repository`; Docker Hub's spellings are equal). */
  identities: readonly string[];
}

const fail = (payloadDigest: string, identity: string | undefined, reason: string, keyIds: string[] = []): SignatureCheck => ({
  payloadDigest,
  identity,
  verified: false,
  keyIds,
  reason,
});

/**
 * Checks one signature as cosign's verifier does, then the claims: the signature must verify over the
 * payload bytes with a trusted key (cosign VerifySignature), the payload must be a cosign simple-signing
 * payload naming this image's digest (cosign's claim check), and its docker-reference must be the
 * image's repository. SIGNATURE_SPEC says cosign ignores docker-reference; Slipway checks it, as
 * containers/image does, so a signature made for one repository cannot be replayed for another.
 */
export function verifySignature(
  payload: Buffer,
  signatureB64: string | undefined,
  expected: ExpectedClaims,
  keys: readonly TrustedKey[],
  payloadDigest = '',
): SignatureCheck {
  if (signatureB64 === undefined) return fail(payloadDigest, undefined, `the layer has no ${SIGNATURE_ANNOTATION} annotation`);
  const parsed = parsePayload(payload);
  const identity = parsed.ok ? parsed.identity : undefined;
  if (keys.length === 0) return fail(payloadDigest, identity, 'no trusted keys were given to verify with');
  const verifying = keysVerifying(payload, signatureB64, keys);
  if (verifying.length === 0)
    return fail(payloadDigest, identity, `the signature does not verify with any trusted key (tried ${keys.map((k) => k.id).join(', ')})`);
  const keyIds = verifying.map((k) => k.id);
  if (!parsed.ok) return fail(payloadDigest, identity, parsed.reason, keyIds);
  if (parsed.digest !== expected.digest) return fail(payloadDigest, identity, `the payload signs ${parsed.digest}, not ${expected.digest}`, keyIds);
  const accepted = new Set(expected.identities.map((i) => normalizeIdentity(i) ?? i));
  if (!accepted.has(normalizeIdentity(parsed.identity) ?? parsed.identity)) {
    return fail(payloadDigest, identity, `the payload is for ${parsed.identity}, not ${expected.identities.join(' or ')}`, keyIds);
  }
  return { payloadDigest, identity, verified: true, keyIds, reason: undefined };
}

export interface VerifyOptions {
  /** Repository (same registry) holding the `.sig`; default the image's own. */
  signatureRepository?: string;
  /** Accepted docker-reference identities; default the image's own `registry/repository`. */
  identities?: readonly string[];
  /** Reuse positive results (see VerificationCache). */
  cache?: VerificationCache<VerifyResult>;
  signal?: AbortSignal;
}

/** Payloads are a few hundred bytes; anything large is not one. */
const MAX_PAYLOAD = 1024 * 1024;

async function checkLayer(
  client: RegistryClient,
  repo: string,
  layer: Descriptor,
  expected: ExpectedClaims,
  keys: readonly TrustedKey[],
  signal?: AbortSignal,
): Promise<SignatureCheck> {
  if (layer.mediaType !== SIMPLE_SIGNING_MEDIA_TYPE)
    return fail(layer.digest, undefined, `layer media type is ${layer.mediaType}, not ${SIMPLE_SIGNING_MEDIA_TYPE}`);
  let payload: Buffer;
  try {
    // The registry client checks the bytes against the layer digest: a swapped blob fails here.
    payload = await client.getBlobBytes(repo, layer.digest, { maxBytes: MAX_PAYLOAD, ...(signal ? { signal } : {}) });
  } catch (err) {
    if (isSlipwayError(err, 'SLW_REGISTRY_NOT_FOUND') || isSlipwayError(err, 'SLW_REGISTRY_DIGEST_MISMATCH') || isSlipwayError(err, 'SLW_REGISTRY_REJECTED')) {
      return fail(layer.digest, undefined, `the payload blob is unusable: ${(err as Error).message}`);
    }
    throw err; // an unreachable registry is an error, not a verdict
  }
  return verifySignature(payload, layer.annotations?.[SIGNATURE_ANNOTATION], expected, keys, layer.digest);
}

/**
 * Verifies an image digest against a set of trusted public keys: reads `sha256-<hex>.sig`, checks
 * every simple-signing layer, and says which keys verified or why nothing did. Fails closed: no
 * signatures, no keys or unreadable payloads are "not verified"; registry outages throw.
 */
export async function verifyImage(
  client: RegistryClient,
  ref: string | ImageRef,
  keys: readonly TrustedKey[],
  opts: VerifyOptions = {},
): Promise<VerifyResult> {
  const image = requireDigestRef(ref, 'verify');
  const repo = opts.signatureRepository ?? image.repository;
  const identities = opts.identities ?? [dockerReference(image.registry, image.repository)];
  const cacheKey = opts.cache ? VerificationCache.key(image.digest, `${client.host}/${repo}`, identities, keys) : '';
  const hit = opts.cache?.get(cacheKey);
  if (hit) return { ...hit, cached: true };

  const expected: ExpectedClaims = { digest: image.digest, identities };
  const set = await readSignatureSet(client, repo, image.digest, opts.signal);
  const signatures = await Promise.all(set.layers.map((layer) => checkLayer(client, repo, layer, expected, keys, opts.signal)));
  const verified = signatures.filter((s) => s.verified);
  const reasons = set.manifestDigest
    ? signatures.filter((s) => !s.verified).map((s) => `${s.payloadDigest.slice(0, 19)}: ${s.reason}`)
    : [`no signatures: ${client.host}/${repo}:${signatureTag(image.digest)} does not exist`];
  if (set.manifestDigest && signatures.length === 0) reasons.push(`no signatures: ${client.host}/${repo}:${signatureTag(image.digest)} has no layers`);
  const result: VerifyResult = {
    verified: verified.length > 0,
    digest: image.digest,
    keyIds: [...new Set(verified.flatMap((s) => s.keyIds))],
    reasons,
    signatures,
    cached: false,
  };
  if (result.verified) opts.cache?.set(cacheKey, result);
  return result;
}

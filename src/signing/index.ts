/**
 * cosign-compatible signing: keys in cosign's formats, signing an image digest into its
 * `sha256-<hex>.sig`, verifying a digest against trusted keys, and a wrapper around the `cosign`
 * executable for keyless and KMS signing. Formats follow cosign's SIGNATURE_SPEC and pkg/cosign.
 */
export {
  generateKeyPair,
  loadPrivateKey,
  loadPublicKey,
  encodePrivateKey,
  encodePublicKey,
  trustedKey,
  PEM_TYPES,
  type GeneratedKeyPair,
  type KeyAlgorithm,
  type SigningKey,
  type TrustedKey,
} from './keys.js';
export { signImage, type SignOptions, type SignResult } from './sign.js';
export { verifyImage, verifySignature, type ExpectedClaims, type SignatureCheck, type VerifyOptions, type VerifyResult } from './verify.js';
export { VerificationCache, type VerificationCacheOptions } from './cache.js';
export { simpleSigningPayload, parsePayload, dockerReference, COSIGN_SIGNATURE_TYPE, type SimpleSigningPayload } from './payload.js';
export { signatureTag, SIMPLE_SIGNING_MEDIA_TYPE, SIGNATURE_ANNOTATION } from './signature-manifest.js';
export { readSignatureSet, type SignatureSet, type AppendOptions } from './append.js';
export { signPayload, keysVerifying } from './signature.js';
export { requireDigestRef, type DigestRef } from './reference.js';
export {
  CosignCli,
  passedEnv,
  type CosignCliOptions,
  type CosignSignOptions,
  type CosignSignResult,
  type CosignVerifyOptions,
  type CosignVerifyResult,
} from './cosign-cli.js';

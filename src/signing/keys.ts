import { createHash, createPrivateKey, createPublicKey, generateKeyPair as generateNodeKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { SlipwayError } from '../core/errors.js';
import { decryptEnvelope, encryptEnvelope } from './envelope.js';
import { decodePem, encodePem } from './pem.js';

/**
 * cosign's key files (pkg/cosign/keys.go): the private key is PKCS#8 DER sealed in the encrypted
 * envelope and PEM-armoured as `ENCRYPTED SIGSTORE PRIVATE KEY` (what cosign writes since v2) or
 * `ENCRYPTED COSIGN PRIVATE KEY` (older cosign; still loaded); the public key is PKIX `PUBLIC KEY` PEM.
 */
export const PEM_TYPES = {
  sigstorePrivate: 'ENCRYPTED SIGSTORE PRIVATE KEY',
  cosignPrivate: 'ENCRYPTED COSIGN PRIVATE KEY',
  public: 'PUBLIC KEY',
} as const;

/**
 * Key types Slipway signs and verifies with, as sigstore's LoadDefaultSignerVerifier does for them:
 * ECDSA P-256 with SHA-256 (cosign's default and the one SIGNATURE_SPEC requires) and RSA (≥2048 bits,
 * PKCS#1 v1.5 with SHA-256). Ed25519 keys are refused: cosign signs with them as Ed25519ph, which
 * Node's crypto does not offer.
 */
export type KeyAlgorithm = 'ecdsa-p256-sha256' | 'rsa-pkcs1v15-sha256';

/** A public key a verification trusts, named so a result can say which key verified. */
export interface TrustedKey {
  /** What the caller calls it (a file path, a config entry); defaults to the fingerprint. */
  id: string;
  /** `sha256:<hex>` of the PKIX DER: stable across file names, used in cache keys. */
  fingerprint: string;
  algorithm: KeyAlgorithm;
  key: KeyObject;
}

export interface SigningKey {
  algorithm: KeyAlgorithm;
  key: KeyObject;
  publicKey: TrustedKey;
}

export interface GeneratedKeyPair {
  /** `cosign.key` contents: `ENCRYPTED SIGSTORE PRIVATE KEY` PEM. */
  privateKeyPem: string;
  /** `cosign.pub` contents: `PUBLIC KEY` PEM. */
  publicKeyPem: string;
  signingKey: SigningKey;
}

const keyError = (message: string, cause?: unknown) => new SlipwayError('SLW_SIGNING_KEY_INVALID', message, cause === undefined ? {} : { cause });

function algorithmOf(key: KeyObject, what: string): KeyAlgorithm {
  const type = key.asymmetricKeyType;
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return 'ecdsa-p256-sha256';
    throw keyError(
      `${what} is an ECDSA key on curve ${curve ?? 'unknown'}; Slipway signs and verifies with P-256 keys (cosign's default): generate one with \`slipway keys generate\``,
    );
  }
  if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    // sigstore's goodkey refuses RSA keys under 2048 bits.
    if (bits < 2048) throw keyError(`${what} is a ${bits}-bit RSA key; cosign refuses RSA keys under 2048 bits`);
    return 'rsa-pkcs1v15-sha256';
  }
  throw keyError(
    `${what} is a${type === 'ed25519' ? 'n Ed25519' : ` ${type ?? 'unknown'}`} key; Slipway signs and verifies with ECDSA P-256 (cosign's default) or RSA keys`,
  );
}

/** Names a public key: its id for results, its fingerprint for caches. */
export function trustedKey(key: KeyObject, id?: string): TrustedKey {
  const spki = key.export({ type: 'spki', format: 'der' });
  const fingerprint = `sha256:${createHash('sha256').update(spki).digest('hex')}`;
  return { id: id ?? fingerprint, fingerprint, algorithm: algorithmOf(key, id ?? 'the public key'), key };
}

/** Loads a `PUBLIC KEY` PEM (cosign.pub). `id` names it in verification results (e.g. its path). */
export function loadPublicKey(pem: string | Buffer, id?: string): TrustedKey {
  const what = id ?? 'the public key';
  const block = decodePem(pem);
  if (!block) throw keyError(`${what} is not PEM; a cosign public key starts with -----BEGIN PUBLIC KEY-----`);
  if (block.type !== PEM_TYPES.public) throw keyError(`${what} is a PEM "${block.type}", not a "PUBLIC KEY" (pass the .pub file, not the private key)`);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: block.bytes, format: 'der', type: 'spki' });
  } catch (err) {
    throw keyError(`${what} is not a PKIX public key: ${(err as Error).message}`, err);
  }
  return trustedKey(key, id);
}

/**
 * Why Go's x509.ParsePKCS8PrivateKey refuses a DER key that is not PKCS#8, in its words: cosign's
 * LoadPrivateKey fails with this for the SEC1 (`EC PRIVATE KEY` structure) key of its own tests.
 * PKCS#8 starts SEQUENCE { INTEGER 0, SEQUENCE …; SEC1 starts SEQUENCE { INTEGER 1, OCTET STRING …;
 * PKCS#1 RSA starts SEQUENCE { INTEGER 0, INTEGER ….
 */
function notPkcs8Hint(der: Buffer): string | undefined {
  if (der[0] !== 0x30) return undefined;
  let i = 1;
  const len = der[i] ?? 0;
  i += len & 0x80 ? 1 + (len & 0x7f) : 1;
  const version = der.subarray(i, i + 3).toString('hex');
  const next = der[i + 3];
  if (version === '020101' && next === 0x04) return 'x509: failed to parse private key (use ParseECPrivateKey instead for this key format)';
  if (version === '020100' && next === 0x02) return 'x509: failed to parse private key (use ParsePKCS1PrivateKey instead for this key format)';
  return undefined;
}

/**
 * Loads an encrypted cosign private key (either PEM type) with its password, as cosign's LoadPrivateKey
 * does: decrypt, then the plaintext must be PKCS#8. A wrong password is SLW_SIGNING_KEY_PASSWORD; the
 * password itself never appears in an error.
 */
export async function loadPrivateKey(pem: string | Buffer, password: string | Buffer, what = 'the private key'): Promise<SigningKey> {
  const block = decodePem(pem);
  if (!block) throw keyError(`${what} is not PEM; a cosign private key starts with -----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----`);
  if (block.type !== PEM_TYPES.sigstorePrivate && block.type !== PEM_TYPES.cosignPrivate) {
    throw keyError(
      `${what} has PEM type "${block.type}"; cosign loads "${PEM_TYPES.sigstorePrivate}" or "${PEM_TYPES.cosignPrivate}" (import others with \`cosign import-key-pair\`)`,
    );
  }
  const der = await decryptEnvelope(block.bytes, Buffer.isBuffer(password) ? password : Buffer.from(password, 'utf8'));
  try {
    const hint = notPkcs8Hint(der);
    if (hint) throw keyError(`${what} decrypts, but is not a PKCS#8 key as cosign requires: parsing private key: ${hint}`);
    let key: KeyObject;
    try {
      key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    } catch (err) {
      throw keyError(`${what} decrypts, but is not a PKCS#8 private key: ${(err as Error).message}`, err);
    }
    const algorithm = algorithmOf(key, what);
    return { algorithm, key, publicKey: trustedKey(createPublicKey(key)) };
  } finally {
    der.fill(0);
  }
}

/** `ENCRYPTED SIGSTORE PRIVATE KEY` PEM of a private key, sealed under `password` (cosign's marshalKeyPair). */
export async function encodePrivateKey(key: KeyObject, password: string | Buffer): Promise<string> {
  const der = key.export({ type: 'pkcs8', format: 'der' });
  try {
    const envelope = await encryptEnvelope(der, Buffer.isBuffer(password) ? password : Buffer.from(password, 'utf8'));
    return encodePem(PEM_TYPES.sigstorePrivate, envelope);
  } finally {
    der.fill(0);
  }
}

export function encodePublicKey(key: KeyObject): string {
  return encodePem(PEM_TYPES.public, key.export({ type: 'spki', format: 'der' }));
}

const generateEc = promisify(generateNodeKeyPair);

/** A new ECDSA P-256 pair, as `cosign generate-key-pair` makes it. */
export async function generateKeyPair(password: string | Buffer): Promise<GeneratedKeyPair> {
  const { privateKey, publicKey } = await generateEc('ec', { namedCurve: 'P-256' });
  return {
    privateKeyPem: await encodePrivateKey(privateKey, password),
    publicKeyPem: encodePublicKey(publicKey),
    signingKey: { algorithm: 'ecdsa-p256-sha256', key: privateKey, publicKey: trustedKey(publicKey) },
  };
}

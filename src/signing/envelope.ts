import { randomBytes, scrypt, type ScryptOptions } from 'node:crypto';
import nacl from 'tweetnacl';
import { SlipwayError } from '../core/errors.js';

/**
 * The password-encrypted envelope inside cosign's private key PEM: go-securesystemslib's
 * `encrypted.Encrypt` (secure-systems-lab/go-securesystemslib encrypted/encrypted.go, which cosign's
 * pkg/cosign/keys.go calls). scrypt derives a 32-byte key from the password and a 32-byte salt; NaCl
 * secretbox (XSalsa20-Poly1305, 24-byte nonce) seals the PKCS#8 key. The JSON is Go's `json.Marshal` of
 * its structs, so field order is struct order and `[]byte` fields are standard padded base64:
 *   {"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":"…"},
 *    "cipher":{"name":"nacl/secretbox","nonce":"…"},"ciphertext":"…"}
 */

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/**
 * What we write: the "legacy" parameters. Every cosign release loads them (go-tuf's original
 * `encrypted` accepted only these), where newer ones (N=65536) fail to load in older cosign.
 */
export const WRITE_PARAMS: ScryptParams = { N: 32768, r: 8, p: 1 };

/**
 * What we accept, as securesystemslib's CheckParams does (legacy, standard, OWASP): a key file must not
 * be able to ask for an arbitrary amount of scrypt work or memory.
 */
const ACCEPTED_PARAMS: readonly ScryptParams[] = [WRITE_PARAMS, { N: 65536, r: 8, p: 1 }, { N: 131072, r: 8, p: 1 }];

const SALT_SIZE = 32;
const KEY_SIZE = 32;
const NONCE_SIZE = 24;

interface Envelope {
  kdf: { name: string; params: ScryptParams; salt: string };
  cipher: { name: string; nonce: string };
  ciphertext: string;
}

function deriveKey(password: Buffer, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  // scrypt needs 128·N·r bytes; Node's default maxmem (32 MiB) is exactly N=32768 and too small for
  // N=65536 keys, which cosign ≥2.2 writes. Allow what the largest accepted parameters need, plus slack.
  const options: ScryptOptions = { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r };
  return new Promise((resolve, reject) => scrypt(password, salt, KEY_SIZE, options, (err, key) => (err ? reject(err) : resolve(key))));
}

/** Seals `plaintext` under `password`; returns the envelope's JSON bytes, exactly as Go would marshal them. */
export async function encryptEnvelope(plaintext: Buffer, password: Buffer): Promise<Buffer> {
  const salt = randomBytes(SALT_SIZE);
  const nonce = randomBytes(NONCE_SIZE);
  const key = await deriveKey(password, salt, WRITE_PARAMS);
  const sealed = nacl.secretbox(plaintext, nonce, key);
  key.fill(0);
  const envelope: Envelope = {
    kdf: { name: 'scrypt', params: { ...WRITE_PARAMS }, salt: salt.toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
    ciphertext: Buffer.from(sealed).toString('base64'),
  };
  return Buffer.from(JSON.stringify(envelope));
}

const invalid = (why: string) => new SlipwayError('SLW_SIGNING_KEY_INVALID', `the private key's encrypted envelope is unusable: ${why}`);

function parseEnvelope(bytes: Buffer): Envelope {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new SlipwayError('SLW_SIGNING_KEY_INVALID', 'the private key is not a cosign key: its PEM body is not the JSON envelope cosign writes', {
      cause: err,
    });
  }
  const e = json as Partial<Envelope>;
  if (e.kdf?.name !== 'scrypt') throw invalid(`unknown kdf name ${JSON.stringify(e.kdf?.name)} (cosign uses "scrypt")`);
  if (e.cipher?.name !== 'nacl/secretbox') throw invalid(`unknown cipher name ${JSON.stringify(e.cipher?.name)} (cosign uses "nacl/secretbox")`);
  const p = e.kdf.params;
  if (!p || !ACCEPTED_PARAMS.some((a) => a.N === p.N && a.r === p.r && a.p === p.p)) {
    throw invalid(`unsupported scrypt parameters ${JSON.stringify(p)} (accepted: N=32768, 65536 or 131072 with r=8, p=1)`);
  }
  if (typeof e.kdf.salt !== 'string' || typeof e.cipher.nonce !== 'string' || typeof e.ciphertext !== 'string')
    throw invalid('salt, nonce or ciphertext missing');
  return e as Envelope;
}

/** Opens an envelope; a wrong password (or a tampered file: secretbox cannot tell them apart) is SLW_SIGNING_KEY_PASSWORD. */
export async function decryptEnvelope(bytes: Buffer, password: Buffer): Promise<Buffer> {
  const envelope = parseEnvelope(bytes);
  const nonce = Buffer.from(envelope.cipher.nonce, 'base64');
  if (nonce.length !== NONCE_SIZE) throw invalid(`nonce is ${nonce.length} bytes, not ${NONCE_SIZE}`);
  const key = await deriveKey(password, Buffer.from(envelope.kdf.salt, 'base64'), envelope.kdf.params);
  const opened = nacl.secretbox.open(Buffer.from(envelope.ciphertext, 'base64'), nonce, key);
  key.fill(0);
  if (!opened) {
    throw new SlipwayError(
      'SLW_SIGNING_KEY_PASSWORD',
      'the password does not decrypt this private key (wrong password, or the key file was altered); check the environment variable that holds it',
    );
  }
  return Buffer.from(opened);
}

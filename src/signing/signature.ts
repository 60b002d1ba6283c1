import { sign, verify } from 'node:crypto';
import type { SigningKey, TrustedKey } from './keys.js';

/**
 * The signature scheme (SIGNATURE_SPEC "Signature Schemes" and "Hashing Algorithms"): the signature is
 * over SHA-256 of the payload bytes; ECDSA signatures are ASN.1 DER; stored base64 (standard, padded)
 * in the `dev.cosignproject.cosign/signature` annotation.
 */

/** Signs payload bytes; returns the base64 annotation value. */
export function signPayload(key: SigningKey, payload: Buffer): string {
  // dsaEncoding 'der' is Node's default for EC keys; spelled out because the format is the contract.
  const options = key.algorithm === 'ecdsa-p256-sha256' ? { key: key.key, dsaEncoding: 'der' as const } : key.key;
  return sign('sha256', payload, options).toString('base64');
}

/** Standard base64 only: Buffer.from would silently skip junk, and a signature is not a place for leniency. */
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The trusted keys that verify `signatureB64` over `payload` (usually none or one). */
export function keysVerifying(payload: Buffer, signatureB64: string, keys: readonly TrustedKey[]): TrustedKey[] {
  if (!BASE64.test(signatureB64) || signatureB64.length % 4 !== 0) return [];
  const signature = Buffer.from(signatureB64, 'base64');
  return keys.filter((k) => {
    try {
      const options = k.algorithm === 'ecdsa-p256-sha256' ? { key: k.key, dsaEncoding: 'der' as const } : k.key;
      return verify('sha256', payload, options, signature);
    } catch {
      return false; // malformed DER is "does not verify", not a crash
    }
  });
}

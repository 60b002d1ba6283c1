import type { Digest } from '../core/types.js';
import { isDigest } from '../core/types.js';
import { parseImageRef } from '../registry/index.js';

/**
 * The simple-signing payload cosign signs (SIGNATURE_SPEC "Simple Signing"; sigstore's
 * pkg/signature/payload `Cosign.MarshalJSON`). Its bytes are what the signature covers and what the
 * `.sig` layer's digest names, so they must be exactly Go's `json.Marshal` of cosign's structs:
 * struct field order (`critical{identity,image,type}`, then `optional`), no whitespace, no trailing
 * newline, `"optional":null` without annotations, map keys sorted, Go's string escaping.
 */

/** `critical.type` of a cosign signature (SIGNATURE_SPEC). */
export const COSIGN_SIGNATURE_TYPE = 'cosign container image signature';

export interface SimpleSigningPayload {
  critical: {
    identity: { 'docker-reference': string };
    image: { 'docker-manifest-digest': string };
    type: string;
  };
  optional: Record<string, unknown> | null;
}

/**
 * The `docker-reference` cosign writes: go-containerregistry's `Repository.Name()`, which spells Docker
 * Hub `index.docker.io` (the golden payload in cosign's obsolete_test.go has `index.docker.io/namespace/image`).
 */
export function dockerReference(registry: string, repository: string): string {
  return `${registry === 'docker.io' ? 'index.docker.io' : registry}/${repository}`;
}

/** `registry/repository` with Docker Hub's two spellings made one, for comparing identities. */
export function normalizeIdentity(reference: string): string | undefined {
  try {
    const ref = parseImageRef(reference);
    const registry = ref.registry === 'index.docker.io' || ref.registry === 'registry-1.docker.io' ? 'docker.io' : ref.registry;
    return `${registry}/${ref.repository}`;
  } catch {
    return undefined;
  }
}

/** Go's encoding/json string escaping: HTML-safe (<, >, & as \u00XX), U+2028/2029 escaped, \b \f short (Go ≥1.22). */
function goString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || ch === '<' || ch === '>' || ch === '&' || c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else if (c >= 0xd800 && c <= 0xdfff)
      out += '\\ufffd'; // a lone surrogate is invalid UTF-8, which Go replaces
    else out += ch;
  }
  return `${out}"`;
}

/** Go sorts map keys by their UTF-8 bytes, which is not JavaScript's UTF-16 order for every string. */
const byUtf8 = (a: string, b: string) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

function goOptional(annotations: Record<string, string> | undefined): string {
  if (!annotations || Object.keys(annotations).length === 0) return 'null';
  const keys = Object.keys(annotations).sort(byUtf8);
  return `{${keys.map((k) => `${goString(k)}:${goString(annotations[k]!)}`).join(',')}}`;
}

/**
 * The exact payload bytes cosign signs for `registry/repository@digest`, with optional string
 * annotations (`cosign sign -a key=value`).
 */
export function simpleSigningPayload(registry: string, repository: string, digest: Digest, annotations?: Record<string, string>): Buffer {
  const identity = goString(dockerReference(registry, repository));
  return Buffer.from(
    `{"critical":{"identity":{"docker-reference":${identity}},"image":{"docker-manifest-digest":${goString(digest)}},"type":${goString(COSIGN_SIGNATURE_TYPE)}},"optional":${goOptional(annotations)}}`,
    'utf8',
  );
}

export type ParsedPayload = { ok: true; payload: SimpleSigningPayload; digest: Digest; identity: string } | { ok: false; reason: string };

/** Reads a payload as a verifier must (cosign's `Cosign.UnmarshalJSON`): the type is checked, the digest well formed. */
export function parsePayload(bytes: Buffer): ParsedPayload {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { ok: false, reason: 'payload is not JSON' };
  }
  const p = json as Partial<SimpleSigningPayload> | null;
  const type = p?.critical?.type;
  if (type !== COSIGN_SIGNATURE_TYPE) return { ok: false, reason: `payload type is ${JSON.stringify(type)}, not "${COSIGN_SIGNATURE_TYPE}"` };
  const digest = p?.critical?.image?.['docker-manifest-digest'];
  if (typeof digest !== 'string' || !isDigest(digest)) return { ok: false, reason: `payload names no sha256 image digest (${JSON.stringify(digest)})` };
  const identity = p?.critical?.identity?.['docker-reference'];
  if (typeof identity !== 'string') return { ok: false, reason: 'payload has no critical.identity.docker-reference' };
  return { ok: true, payload: p as SimpleSigningPayload, digest, identity };
}

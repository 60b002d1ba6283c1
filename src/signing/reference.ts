import { SlipwayError } from '../core/errors.js';
import type { Digest } from '../core/types.js';
import { formatImageRef, parseImageRef, type ImageRef } from '../registry/index.js';

export type DigestRef = ImageRef & { digest: Digest };

/**
 * Signing and verifying take a digest, never a tag (docs/architecture.md: "Everything that is signed or promoted
 * is addressed by digest"): a tag can move between resolving it and signing, and a signature would then
 * vouch for an image nobody looked at.
 */
export function requireDigestRef(ref: string | ImageRef, action: 'sign' | 'verify'): DigestRef {
  const parsed = typeof ref === 'string' ? parseImageRef(ref) : ref;
  if (!parsed.digest) {
    const shown = typeof ref === 'string' ? ref : formatImageRef(ref);
    throw new SlipwayError(
      'SLW_SIGNING_BY_DIGEST',
      `refusing to ${action} ${shown}: name the image by digest (${parsed.registry}/${parsed.repository}@sha256:…), not by tag; \`slipway build\` prints it`,
    );
  }
  return parsed as DigestRef;
}

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Digest } from '../../src/core/types.js';
import { loadPublicKey, SIGNATURE_ANNOTATION, type ExpectedClaims, SIMPLE_SIGNING_MEDIA_TYPE, verifySignature } from '../../src/signing/index.js';
import { hasShared, sharedFixture } from '../helpers/shared.js';

/**
 * Real `/usr/bin/cosign` signatures from containers/image's test fixtures, in its "dir" format:
 * `\0sigstore-json\n` then {mimeType, payload (base64), annotations}.
 */
function dirSignature(relPath: string) {
  const bytes = sharedFixture(relPath);
  const prefix = Buffer.from('\0sigstore-json\n');
  expect(bytes.subarray(0, prefix.length).equals(prefix)).toBe(true);
  const json = JSON.parse(bytes.subarray(prefix.length).toString('utf8')) as { mimeType: string; payload: string; annotations: Record<string, string> };
  return { mimeType: json.mimeType, payload: Buffer.from(json.payload, 'base64'), signature: json.annotations[SIGNATURE_ANNOTATION] };
}

describe.skipIf(!hasShared())('cosign signature vectors (../shared/fixtures/cosign/containers-image)', () => {
  const manifest = () => sharedFixture('cosign/containers-image/dir-img-cosign-valid/manifest.json');
  const digest = () => `sha256:${createHash('sha256').update(manifest()).digest('hex')}` as Digest;
  const identity = '192.168.64.2:5000/cosign-signed-single-sample';
  const key = (name: string) => loadPublicKey(sharedFixture(`cosign/containers-image/${name}`), name);

  it("the manifest's digest is the one the vectors sign", () => {
    expect(digest()).toBe('sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00');
  });

  it('signature-1 verifies with cosign.pub against the manifest digest', () => {
    const sig = dirSignature('cosign/containers-image/dir-img-cosign-valid/signature-1');
    expect(sig.mimeType).toBe(SIMPLE_SIGNING_MEDIA_TYPE);
    const check = verifySignature(sig.payload, sig.signature, { digest: digest(), identities: [identity] }, [key('cosign2.pub'), key('cosign.pub')]);
    expect(check).toMatchObject({ verified: true, keyIds: ['cosign.pub'], identity });
  });

  it('signature-1 does not verify with cosign2.pub, and says so', () => {
    const sig = dirSignature('cosign/containers-image/dir-img-cosign-valid/signature-1');
    const check = verifySignature(sig.payload, sig.signature, { digest: digest(), identities: [identity] }, [key('cosign2.pub')]);
    expect(check.verified).toBe(false);
    expect(check.reason).toBe('the signature does not verify with any trusted key (tried cosign2.pub)');
  });

  it('unknown-cosign-key.signature (same payload, unknown key) verifies with neither key', () => {
    const sig = dirSignature('cosign/containers-image/unknown-cosign-key.signature');
    const check = verifySignature(sig.payload, sig.signature, { digest: digest(), identities: [identity] }, [key('cosign.pub'), key('cosign2.pub')]);
    expect(check.verified).toBe(false);
    expect(check.reason).toMatch(/does not verify with any trusted key \(tried cosign.pub, cosign2.pub\)/);
  });

  it.each<[string, Partial<ExpectedClaims>, RegExp]>([
    ['another digest', { digest: `sha256:${'0'.repeat(64)}` as Digest }, /the payload signs sha256:634a8f35[a-f0-9]{56}, not sha256:0{64}/],
    [
      'another repository',
      { identities: ['192.168.64.2:5000/somebody-else'] },
      /is for 192.168.64.2:5000\/cosign-signed-single-sample, not 192.168.64.2:5000\/somebody-else/,
    ],
  ])('a valid signature still fails the claims for %s', (_what, claims, reason) => {
    const sig = dirSignature('cosign/containers-image/dir-img-cosign-valid/signature-1');
    const check = verifySignature(sig.payload, sig.signature, { ...{ digest: digest(), identities: [identity] }, ...claims }, [key('cosign.pub')]);
    expect(check).toMatchObject({ verified: false, keyIds: ['cosign.pub'] });
    expect(check.reason).toMatch(reason);
  });

  it('a flipped payload byte fails the signature', () => {
    const sig = dirSignature('cosign/containers-image/dir-img-cosign-valid/signature-1');
    const tampered = Buffer.from(sig.payload.toString().replace('cosign-signed-single-sample', 'cosign-signed-single-sampl3'));
    expect(verifySignature(tampered, sig.signature, { digest: digest(), identities: [identity] }, [key('cosign.pub')]).verified).toBe(false);
  });
});

import { createHash, verify as cryptoVerify } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { isSlipwayError } from '../../src/core/errors.js';
import type { Digest } from '../../src/core/types.js';
import { MediaTypes, RegistryClient } from '../../src/registry/index.js';
import {
  generateKeyPair,
  readSignatureSet,
  SIGNATURE_ANNOTATION,
  signatureTag,
  signImage,
  SIMPLE_SIGNING_MEDIA_TYPE,
  VerificationCache,
  verifyImage,
  type SigningKey,
  type TrustedKey,
  type VerifyResult,
} from '../../src/signing/index.js';
import { pushSyntheticImage, type SyntheticImage } from '../helpers/images.js';
import { SHARED_REGISTRY, uniqueRepo } from '../helpers/registry.js';

const client = () => new RegistryClient({ host: SHARED_REGISTRY });

async function newKey(id: string): Promise<{ key: SigningKey; pub: TrustedKey }> {
  const pair = await generateKeyPair('pw');
  return { key: pair.signingKey, pub: { ...pair.signingKey.publicKey, id } };
}

async function thrown(p: Promise<unknown>) {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

/**
 * An independent reading of SIGNATURE_SPEC, sharing no code with src/signing: plain HTTP to the
 * registry, the tag rule, the layer media type and annotation, ECDSA over the payload bytes.
 */
async function independentlyVerified(repo: string, digest: string, publicKey: TrustedKey): Promise<number> {
  const base = `http://${SHARED_REGISTRY}/v2/${repo}`;
  const tag = `${digest.replace(':', '-')}.sig`;
  const res = await fetch(`${base}/manifests/${tag}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
  if (!res.ok) return 0;
  const manifest = (await res.json()) as { layers: { mediaType: string; digest: string; annotations?: Record<string, string> }[] };
  let good = 0;
  for (const layer of manifest.layers) {
    if (layer.mediaType !== 'application/vnd.dev.cosign.simplesigning.v1+json') continue;
    const payload = Buffer.from(await (await fetch(`${base}/blobs/${layer.digest}`)).arrayBuffer());
    if (`sha256:${createHash('sha256').update(payload).digest('hex')}` !== layer.digest) continue;
    const body = JSON.parse(payload.toString()) as { critical: { image: { 'docker-manifest-digest': string }; type: string } };
    const sig = Buffer.from(layer.annotations?.['dev.cosignproject.cosign/signature'] ?? '', 'base64');
    if (
      body.critical.type === 'cosign container image signature' &&
      body.critical.image['docker-manifest-digest'] === digest &&
      cryptoVerify('sha256', payload, publicKey.key, sig)
    )
      good++;
  }
  return good;
}

describe('signing and verifying against the real registry (127.0.0.1:5000)', () => {
  let image: SyntheticImage;
  let alice: { key: SigningKey; pub: TrustedKey };
  let bob: { key: SigningKey; pub: TrustedKey };

  beforeAll(async () => {
    image = await pushSyntheticImage({ User: '1000' }, 256);
    alice = await newKey('alice.pub');
    bob = await newKey('bob.pub');
  });

  it("sign then verify: the .sig is cosign's layout and verifies with the signer's key", async () => {
    const signed = await signImage(client(), image.ref, alice.key);
    expect(signed).toMatchObject({ added: true, signatures: 1, signatureTag: signatureTag(image.digest as Digest), signatureRepository: image.repository });
    const m = await client().getManifest(image.repository, `${image.digest.replace(':', '-')}.sig`);
    expect(m.mediaType).toBe(MediaTypes.ociManifest);
    const layers = m.json.layers as { mediaType: string; digest: string; size: number; annotations: Record<string, string> }[];
    expect(layers).toHaveLength(1);
    expect(layers[0]).toMatchObject({
      mediaType: SIMPLE_SIGNING_MEDIA_TYPE,
      digest: signed.payloadDigest,
      annotations: { [SIGNATURE_ANNOTATION]: signed.signature },
    });
    const result = await verifyImage(client(), image.ref, [bob.pub, alice.pub]);
    expect(result).toMatchObject({ verified: true, keyIds: ['alice.pub'], cached: false });
    expect(result.signatures[0]).toMatchObject({ verified: true, identity: `${SHARED_REGISTRY}/${image.repository}` });
    expect(await independentlyVerified(image.repository, image.digest, alice.pub)).toBe(1);
  });

  it("signing again with the same key adds nothing (idempotent, like cosign's dupe detector)", async () => {
    const again = await signImage(client(), image.ref, alice.key);
    expect(again).toMatchObject({ added: false, signatures: 1 });
  });

  it('a second signer keeps the first signature; each key verifies its own', async () => {
    const second = await signImage(client(), image.ref, bob.key);
    expect(second).toMatchObject({ added: true, signatures: 2 });
    expect((await verifyImage(client(), image.ref, [alice.pub, bob.pub])).keyIds.sort()).toEqual(['alice.pub', 'bob.pub']);
    expect((await verifyImage(client(), image.ref, [alice.pub])).keyIds).toEqual(['alice.pub']);
  });

  it('an untrusted key fails, saying why for every signature', async () => {
    const mallory = await newKey('mallory.pub');
    const result = await verifyImage(client(), image.ref, [mallory.pub]);
    expect(result.verified).toBe(false);
    expect(result.keyIds).toEqual([]);
    expect(result.reasons).toHaveLength(2);
    for (const r of result.reasons) expect(r).toMatch(/the signature does not verify with any trusted key \(tried mallory.pub\)/);
  });

  it('an unsigned digest fails: no .sig at all', async () => {
    const unsigned = await pushSyntheticImage({}, 128);
    const result = await verifyImage(client(), unsigned.ref, [alice.pub]);
    expect(result).toMatchObject({ verified: false, keyIds: [] });
    expect(result.reasons[0]).toMatch(/^no signatures: .*:sha256-[a-f0-9]{64}\.sig does not exist$/);
  });

  it('a tampered payload (blob swapped, descriptor rewritten, signature kept) fails', async () => {
    const target = await pushSyntheticImage({}, 128);
    const signed = await signImage(client(), target.ref, alice.key);
    const c = client();
    const forged = Buffer.from(
      (await c.getBlobBytes(target.repository, signed.payloadDigest)).toString().replace('"optional":null', '"optional":{"approved":"yes"}'),
    );
    const forgedDigest = await c.uploadBlob(target.repository, forged);
    const m = await c.getManifest(target.repository, signed.signatureTag);
    const json = m.json as { layers: { digest: string; size: number }[] };
    json.layers[0]!.digest = forgedDigest;
    json.layers[0]!.size = forged.length;
    await c.putManifest(target.repository, signed.signatureTag, Buffer.from(JSON.stringify(json)), MediaTypes.ociManifest);
    const result = await verifyImage(c, target.ref, [alice.pub]);
    expect(result.verified).toBe(false);
    expect(result.reasons[0]).toMatch(/does not verify with any trusted key/);
  });

  it("a signature copied from another image's .sig fails the digest claim", async () => {
    const other = await pushSyntheticImage({}, 128);
    const c = client();
    const src = await c.getManifest(image.repository, signatureTag(image.digest as Digest));
    await c.putManifest(image.repository, signatureTag(other.digest as Digest), src.bytes, MediaTypes.ociManifest);
    const result = await verifyImage(c, `${SHARED_REGISTRY}/${image.repository}@${other.digest}`, [alice.pub]);
    expect(result.verified).toBe(false);
    expect(result.reasons.join('\n')).toMatch(/the payload signs sha256:[a-f0-9]{64}, not sha256:/);
  });

  it('refuses a tag reference for signing and for verifying', async () => {
    for (const p of [signImage(client(), image.tagRef, alice.key), verifyImage(client(), image.tagRef, [alice.pub])]) {
      const err = await thrown(p);
      expect(isSlipwayError(err, 'SLW_SIGNING_BY_DIGEST')).toBe(true);
      expect((err as Error).message).toMatch(/name the image by digest/);
    }
  });

  it('refuses to sign a digest the registry does not have', async () => {
    const err = await thrown(signImage(client(), `${SHARED_REGISTRY}/${uniqueRepo('nothing')}@sha256:${'a'.repeat(64)}`, alice.key));
    expect(isSlipwayError(err, 'SLW_REGISTRY_NOT_FOUND')).toBe(true);
  });

  it('stores and finds signatures in a configured signature repository', async () => {
    const target = await pushSyntheticImage({}, 128);
    const sigRepo = uniqueRepo('signatures');
    const signed = await signImage(client(), target.ref, alice.key, { signatureRepository: sigRepo });
    expect(signed.signatureRepository).toBe(sigRepo);
    expect((await verifyImage(client(), target.ref, [alice.pub])).verified).toBe(false);
    const found = await verifyImage(client(), target.ref, [alice.pub], { signatureRepository: sigRepo });
    expect(found).toMatchObject({ verified: true, keyIds: ['alice.pub'] });
    // the payload still names the image's own repository, as cosign's does with COSIGN_REPOSITORY
    expect(found.signatures[0]!.identity).toBe(`${SHARED_REGISTRY}/${target.repository}`);
  });
});

describe('concurrent signers (real registry)', () => {
  it('five signers racing on one digest: every signature is kept', async () => {
    const image = await pushSyntheticImage({}, 128);
    const signers = await Promise.all([1, 2, 3, 4, 5].map((n) => newKey(`signer-${n}.pub`)));
    // separate clients: separate connections and token caches, as separate workers would have
    const results = await Promise.all(signers.map((s) => signImage(client(), image.ref, s.key)));
    expect(results.every((r) => r.added)).toBe(true);
    const set = await readSignatureSet(client(), image.repository, image.digest as Digest);
    expect(set.layers).toHaveLength(5);
    const verified = await verifyImage(
      client(),
      image.ref,
      signers.map((s) => s.pub),
    );
    expect(verified.keyIds.sort()).toEqual(signers.map((s) => s.pub.id).sort());
  });

  it('a rival that read before our PUT and overwrites after our first check is caught by the settle check', async () => {
    const image = await pushSyntheticImage({}, 128);
    const ours = await newKey('ours.pub');
    const rival = await newKey('rival.pub');
    // The rival signed first; its one-layer manifest is what a stale rival would PUT again later.
    await signImage(client(), image.ref, rival.key);
    const rivalManifest = await client().getManifest(image.repository, signatureTag(image.digest as Digest));
    /**
     * A strict timing fake around the real client: the real registry answers every call; the fake only
     * injects the rival's stale PUT (its manifest without our layer) right after our first post-PUT read.
     */
    class StaleRivalClient extends RegistryClient {
      private reads = 0;
      private putDone = false;
      clobbered = false;
      override async putManifest(...args: Parameters<RegistryClient['putManifest']>) {
        const d = await super.putManifest(...args);
        this.putDone = true;
        return d;
      }
      override async getManifest(...args: Parameters<RegistryClient['getManifest']>) {
        const m = await super.getManifest(...args);
        if (this.putDone && !this.clobbered && ++this.reads === 1) {
          await super.putManifest(image.repository, signatureTag(image.digest as Digest), rivalManifest.bytes, MediaTypes.ociManifest);
          this.clobbered = true;
        }
        return m;
      }
    }
    const racing = new StaleRivalClient({ host: SHARED_REGISTRY });
    const result = await signImage(racing, image.ref, ours.key);
    expect(racing.clobbered).toBe(true);
    expect(result.signatures).toBe(2);
    const verified = await verifyImage(client(), image.ref, [ours.pub, rival.pub]);
    expect(verified.keyIds.sort()).toEqual(['ours.pub', 'rival.pub']);
  });
});

describe('verification cache', () => {
  it('reuses a positive result for the same digest and key set (in any order), and never a negative one', async () => {
    const image = await pushSyntheticImage({}, 128);
    const a = await newKey('a.pub');
    const b = await newKey('b.pub');
    const cache = new VerificationCache<VerifyResult>();
    const before = await verifyImage(client(), image.ref, [a.pub, b.pub], { cache });
    expect(before).toMatchObject({ verified: false, cached: false });
    expect(cache.size).toBe(0);
    await signImage(client(), image.ref, a.key);
    expect(await verifyImage(client(), image.ref, [a.pub, b.pub], { cache })).toMatchObject({ verified: true, cached: false });
    expect(await verifyImage(client(), image.ref, [b.pub, a.pub], { cache })).toMatchObject({ verified: true, cached: true, keyIds: ['a.pub'] });
    // another key set is another question
    expect(await verifyImage(client(), image.ref, [b.pub], { cache })).toMatchObject({ verified: false, cached: false });
  });

  it('entries expire and the oldest go beyond maxEntries', () => {
    let now = 0;
    const cache = new VerificationCache<number>({ ttlMs: 100, maxEntries: 2, now: () => now });
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('c', 3);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([undefined, 2, 3]);
    now = 100;
    expect(cache.get('b')).toBeUndefined();
  });
});

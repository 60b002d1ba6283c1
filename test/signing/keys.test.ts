import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isSlipwayError } from '../../src/core/errors.js';
import { encodePrivateKey, generateKeyPair, loadPrivateKey, loadPublicKey, PEM_TYPES } from '../../src/signing/index.js';
import { hasShared, sharedFixture } from '../helpers/shared.js';

const pemBody = (pem: string) =>
  Buffer.from(
    pem
      .split('\n')
      .filter((l) => l && !l.startsWith('-----'))
      .join(''),
    'base64',
  );

async function rejection(p: Promise<unknown>) {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isSlipwayError(err)) throw new Error(`expected a SlipwayError, got ${String(err)}`);
  return err;
}

describe('cosign key files: generate, write, load back', () => {
  it('a generated pair loads back with its password and has the same public key', async () => {
    const pair = await generateKeyPair('correct horse');
    const loaded = await loadPrivateKey(pair.privateKeyPem, 'correct horse');
    expect(loaded.algorithm).toBe('ecdsa-p256-sha256');
    expect(loaded.publicKey.fingerprint).toBe(pair.signingKey.publicKey.fingerprint);
    expect(loadPublicKey(pair.publicKeyPem).fingerprint).toBe(pair.signingKey.publicKey.fingerprint);
  });

  it("writes cosign's format: SIGSTORE PEM at 64 columns, go-securesystemslib JSON in Go's field order, scrypt N=32768 r=8 p=1", async () => {
    const pair = await generateKeyPair('pw');
    const lines = pair.privateKeyPem.trimEnd().split('\n');
    expect(lines[0]).toBe(`-----BEGIN ${PEM_TYPES.sigstorePrivate}-----`);
    expect(lines.at(-1)).toBe(`-----END ${PEM_TYPES.sigstorePrivate}-----`);
    expect(lines.slice(1, -2).every((l) => l.length === 64)).toBe(true);
    const envelope = pemBody(pair.privateKeyPem).toString('utf8');
    expect(envelope).toMatch(
      /^\{"kdf":\{"name":"scrypt","params":\{"N":32768,"r":8,"p":1\},"salt":"[A-Za-z0-9+/]{43}="\},"cipher":\{"name":"nacl\/secretbox","nonce":"[A-Za-z0-9+/]{32}"\},"ciphertext":"[A-Za-z0-9+/=]+"\}$/,
    );
    expect(pair.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----\n$/);
  });

  it('a wrong password is SLW_SIGNING_KEY_PASSWORD, and the message carries no password', async () => {
    const pair = await generateKeyPair('the-right-one');
    const err = await rejection(loadPrivateKey(pair.privateKeyPem, 'the-wrong-one'));
    expect(err.code).toBe('SLW_SIGNING_KEY_PASSWORD');
    expect(err.message).toMatch(/password does not decrypt/);
    expect(err.message).not.toMatch(/the-(right|wrong)-one/);
  });

  it('refuses envelopes asking for scrypt work cosign would not do (N=2^20)', async () => {
    const pair = await generateKeyPair('pw');
    const envelope = JSON.parse(pemBody(pair.privateKeyPem).toString('utf8')) as { kdf: { params: { N: number } } };
    envelope.kdf.params.N = 1 << 20;
    const pem = `-----BEGIN ${PEM_TYPES.sigstorePrivate}-----\n${Buffer.from(JSON.stringify(envelope)).toString('base64')}\n-----END ${PEM_TYPES.sigstorePrivate}-----\n`;
    const err = await rejection(loadPrivateKey(pem, 'pw'));
    expect(err.code).toBe('SLW_SIGNING_KEY_INVALID');
    expect(err.message).toMatch(/unsupported scrypt parameters/);
  });

  it.each([
    ['a public key given as the private key', (p: { publicKeyPem: string }) => p.publicKeyPem, /PEM type "PUBLIC KEY"/],
    ['text that is not PEM', () => 'hello', /not PEM/],
  ])('refuses %s with a hint', async (_what, make, message) => {
    const pair = await generateKeyPair('pw');
    const err = await rejection(loadPrivateKey(make(pair), 'pw'));
    expect(err.code).toBe('SLW_SIGNING_KEY_INVALID');
    expect(err.message).toMatch(message);
  });

  it.each([
    ['Ed25519', () => generateKeyPairSync('ed25519').privateKey, /Ed25519 key/],
    ['P-384', () => generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey, /curve secp384r1/],
    ['RSA-1024', () => generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey, /1024-bit RSA key/],
  ])('refuses a %s key it cannot sign as cosign does, saying which', async (_what, make, message) => {
    const pem = await encodePrivateKey(make(), 'pw');
    const err = await rejection(loadPrivateKey(pem, 'pw'));
    expect(err.code).toBe('SLW_SIGNING_KEY_INVALID');
    expect(err.message).toMatch(message);
  });

  it('loads an RSA-2048 key (sigstore signs those with PKCS#1 v1.5 SHA-256)', async () => {
    const pem = await encodePrivateKey(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, 'pw');
    expect((await loadPrivateKey(pem, 'pw')).algorithm).toBe('rsa-pkcs1v15-sha256');
  });
});

describe.skipIf(!hasShared())('cosign key fixtures (../shared/fixtures/cosign/sigstore-cosign)', () => {
  const fixture = (name: string) => sharedFixture(`cosign/sigstore-cosign/${name}`);

  it.each([
    ['sigstore-labeled.password-hello.key', 'sigstore-labeled.DERIVED.pub'],
    ['cosign-labeled-rsa.password-hello.key', 'cosign-labeled-rsa.DERIVED.pub'],
  ])('%s decrypts with "hello" to the key of %s', async (keyFile, pubFile) => {
    const key = await loadPrivateKey(fixture(keyFile), 'hello', keyFile);
    // cosign's "RSA" test key is in fact EC P-256 (see the fixtures README), so cosign's own tests load it.
    expect(key.algorithm).toBe('ecdsa-p256-sha256');
    expect(key.publicKey.fingerprint).toBe(loadPublicKey(fixture(pubFile)).fingerprint);
  });

  it("rejects the SEC1 key as cosign does, in cosign's words", async () => {
    const err = await rejection(loadPrivateKey(fixture('cosign-labeled-ec-sec1.password-hello.key'), 'hello'));
    expect(err.code).toBe('SLW_SIGNING_KEY_INVALID');
    expect(err.message).toContain('x509: failed to parse private key (use ParseECPrivateKey instead for this key format)');
  });

  it.each([
    ['sigstore-labeled.password-hello.key', 'goodbye'],
    ['ci-cosign-test.password-UNKNOWN.key', 'hello'],
  ])('%s with password %j: wrong-password error', async (keyFile, password) => {
    const err = await rejection(loadPrivateKey(fixture(keyFile), password));
    expect(err.code).toBe('SLW_SIGNING_KEY_PASSWORD');
  });

  it("parses cosign's CI public key", () => {
    const key = loadPublicKey(fixture('ci-cosign-test.pub'), 'ci-cosign-test.pub');
    expect(key).toMatchObject({ id: 'ci-cosign-test.pub', algorithm: 'ecdsa-p256-sha256' });
    expect(key.fingerprint).toMatch(/^sha256:[a-f0-9]{64}$/);
  });
});

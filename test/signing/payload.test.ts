import { describe, expect, it } from 'vitest';
import type { Digest } from '../../src/core/types.js';
import { parsePayload, simpleSigningPayload } from '../../src/signing/index.js';
import { hasShared, sharedFixture } from '../helpers/shared.js';

const D = 'sha256:4aa3054270f7a70b4528f2064ee90961788e1e1518703592ae4463de3b889dec' as Digest;

describe.skipIf(!hasShared())("simple-signing payload: cosign's golden bytes (../shared/fixtures/cosign)", () => {
  it('reproduces obsolete-payload.golden.json byte for byte for docker.io/namespace/image', () => {
    const golden = sharedFixture('cosign/sigstore-cosign/obsolete-payload.golden.json');
    expect(simpleSigningPayload('docker.io', 'namespace/image', D).equals(golden)).toBe(true);
  });
});

describe('simple-signing payload bytes', () => {
  it.each([
    ['127.0.0.1:5000', 'slipway/hello', '127.0.0.1:5000/slipway/hello'],
    ['docker.io', 'library/busybox', 'index.docker.io/library/busybox'],
    ['ghcr.io', 'octo/app', 'ghcr.io/octo/app'],
  ])('%s/%s signs as docker-reference %s (go-containerregistry Repository.Name)', (registry, repository, identity) => {
    const text = simpleSigningPayload(registry, repository, D).toString();
    expect(text).toBe(
      `{"critical":{"identity":{"docker-reference":"${identity}"},"image":{"docker-manifest-digest":"${D}"},"type":"cosign container image signature"},"optional":null}`,
    );
  });

  it("writes annotations as Go's json.Marshal of a map: keys sorted, HTML characters escaped", () => {
    const text = simpleSigningPayload('ghcr.io', 'o/a', D, { zeta: 'z', alpha: '<a&b>', 'line\nbreak': 'tab\there', q: '"\\' }).toString();
    expect(text.endsWith(`"optional":{"alpha":"\\u003ca\\u0026b\\u003e","line\\nbreak":"tab\\there","q":"\\"\\\\","zeta":"z"}}`)).toBe(true);
    expect(JSON.parse(text).optional).toEqual({ zeta: 'z', alpha: '<a&b>', 'line\nbreak': 'tab\there', q: '"\\' });
  });

  it.each([
    ['not JSON', 'nope', /not JSON/],
    [
      'another type',
      JSON.stringify({ critical: { identity: { 'docker-reference': 'x' }, image: { 'docker-manifest-digest': D }, type: 'atomic container signature' } }),
      /payload type is "atomic container signature"/,
    ],
    [
      'a tag instead of a digest',
      JSON.stringify({
        critical: { identity: { 'docker-reference': 'x' }, image: { 'docker-manifest-digest': 'latest' }, type: 'cosign container image signature' },
      }),
      /no sha256 image digest/,
    ],
  ])('parsePayload refuses %s', (_what, text, reason) => {
    const parsed = parsePayload(Buffer.from(text));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(reason);
  });

  it('parsePayload reads back what we write', () => {
    const parsed = parsePayload(simpleSigningPayload('127.0.0.1:5000', 'a/b', D));
    expect(parsed).toMatchObject({ ok: true, digest: D, identity: '127.0.0.1:5000/a/b' });
  });
});

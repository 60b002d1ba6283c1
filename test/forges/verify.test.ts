import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isSlipwayError, type ErrorCode } from '../../src/core/errors.js';
import { createForge, forgeIds } from '../../src/forges/registry.js';
import type { WebhookHeaders } from '../../src/forges/types.js';

/** Runs fn and returns the SlipwayError it throws, failing the test otherwise. */
function thrown(fn: () => void): { code: ErrorCode; message: string; details: unknown } {
  try {
    fn();
  } catch (err) {
    if (isSlipwayError(err)) return err;
    throw err;
  }
  throw new Error('expected a SlipwayError, nothing was thrown');
}

describe('GitHub X-Hub-Signature-256', () => {
  // docs.github.com, "Validating webhook deliveries" → "Testing the webhook payload validation".
  const secret = "It's a Secret to Everybody";
  const body = Buffer.from('Hello, World!');
  const documented = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
  const github = createForge('github', { secret });
  const verify = (headers: WebhookHeaders) => github.verify({ headers, rawBody: body });

  it("passes GitHub's documented test vector", () => {
    expect(() => verify({ 'x-hub-signature-256': documented })).not.toThrow();
  });

  it('accepts upper-case hex (hex is case-insensitive)', () => {
    expect(() => verify({ 'x-hub-signature-256': `sha256=${documented.slice(7).toUpperCase()}` })).not.toThrow();
  });

  it('accepts a header Node delivered as a one-element array', () => {
    expect(() => verify({ 'x-hub-signature-256': [documented] })).not.toThrow();
  });

  const otherBody = `sha256=${createHmac('sha256', secret).update('Hello, World?').digest('hex')}`;
  const otherSecret = `sha256=${createHmac('sha256', 'not the secret').update(body).digest('hex')}`;

  it.each([
    ['a signature of another body', otherBody],
    ['a signature made with another secret', otherSecret],
    ['one flipped hex digit', documented.slice(0, -1) + '6'],
    ['no sha256= prefix', documented.slice(7)],
    ['the legacy sha1= algorithm', `sha1=${createHmac('sha1', secret).update(body).digest('hex')}`],
    ['a short digest', 'sha256=757107ea'],
    ['a long digest', `${documented}00`],
    ['non-hex characters', `sha256=${'z'.repeat(64)}`],
    ['an empty value', ''],
    ['surrounding whitespace', ` ${documented}`],
    ['two headers (ambiguous)', [documented, documented]],
  ] as const)('rejects %s as a plain mismatch', (_name, header) => {
    const err = thrown(() => verify({ 'x-hub-signature-256': header as string | string[] }));
    expect(err.code).toBe('SLW_WEBHOOK_SIGNATURE');
    expect(err.message).toContain('check the webhook secret configured in GitHub matches github.webhookSecret');
    expect(err.details).toBeUndefined();
    // Never echo what was expected or received.
    expect(err.message).not.toContain(documented.slice(7));
    if (typeof header === 'string' && header.length > 8) expect(err.message).not.toContain(header.trim());
  });

  it('rejects a delivery without the header, saying what to check', () => {
    const err = thrown(() => verify({}));
    expect(err.code).toBe('SLW_WEBHOOK_SIGNATURE');
    expect(err.message).toMatch(/X-Hub-Signature-256 header is missing/);
    expect(err.message).toContain('github.webhookSecret');
  });

  it.each([
    ['undefined', undefined],
    ['empty', ''],
  ])('fails closed when the secret is %s', (_name, missing) => {
    const forge = createForge('github', { secret: missing });
    const err = thrown(() => forge.verify({ headers: { 'x-hub-signature-256': documented }, rawBody: body }));
    expect(err.code).toBe('SLW_WEBHOOK_NOT_CONFIGURED');
    expect(err.message).toContain('github.webhookSecret');
  });
});

describe('GitLab X-Gitlab-Token', () => {
  const token = 'glwt-s3cr3t-token';
  const gitlab = createForge('gitlab', { secret: token });
  const verify = (headers: WebhookHeaders) => gitlab.verify({ headers, rawBody: Buffer.from('{}') });

  it('accepts the configured token', () => {
    expect(() => verify({ 'x-gitlab-token': token })).not.toThrow();
  });

  it.each([
    ['a different token of the same length', token.replace('s3cr3t', 'secret')],
    ['a prefix of the token', token.slice(0, 4)],
    ['the token plus a suffix', `${token}x`],
    ['different case', token.toUpperCase()],
    ['an empty value', ''],
    ['two headers (ambiguous)', [token, token]],
  ] as const)('rejects %s', (_name, header) => {
    const err = thrown(() => verify({ 'x-gitlab-token': header as string | string[] }));
    expect(err.code).toBe('SLW_WEBHOOK_SIGNATURE');
    expect(err.message).toContain('gitlab.webhookToken');
    expect(err.message).not.toContain(token);
    expect(err.details).toBeUndefined();
  });

  it('rejects a delivery without the header, saying what to check', () => {
    const err = thrown(() => verify({}));
    expect(err.code).toBe('SLW_WEBHOOK_SIGNATURE');
    expect(err.message).toMatch(/X-Gitlab-Token header is missing/);
    expect(err.message).toContain('gitlab.webhookToken');
  });

  it.each([
    ['undefined', undefined],
    ['empty', ''],
  ])('fails closed when the token is %s', (_name, missing) => {
    const forge = createForge('gitlab', { secret: missing });
    const err = thrown(() => forge.verify({ headers: { 'x-gitlab-token': '' }, rawBody: Buffer.from('{}') }));
    expect(err.code).toBe('SLW_WEBHOOK_NOT_CONFIGURED');
    expect(err.message).toContain('gitlab.webhookToken');
  });
});

describe('forge registry', () => {
  it('lists every forge id', () => {
    expect(forgeIds()).toEqual(['github', 'gitlab']);
  });

  it.each(forgeIds())('creates a %s forge carrying its id', (id) => {
    expect(createForge(id, { secret: 's' }).id).toBe(id);
  });

  it('creates independent instances (no shared state between secrets)', () => {
    const a = createForge('gitlab', { secret: 'a' });
    const b = createForge('gitlab', { secret: 'b' });
    const req = (t: string) => ({ headers: { 'x-gitlab-token': t }, rawBody: Buffer.alloc(0) });
    expect(() => a.verify(req('a'))).not.toThrow();
    expect(() => b.verify(req('b'))).not.toThrow();
    expect(thrown(() => a.verify(req('b'))).code).toBe('SLW_WEBHOOK_SIGNATURE');
  });

  it('rejects an id from config that no factory serves', () => {
    const err = thrown(() => createForge('bitbucket' as 'github', { secret: 's' }));
    expect(err.code).toBe('SLW_CONFIG_INVALID');
    expect(err.message).toContain('"github", "gitlab"');
  });
});

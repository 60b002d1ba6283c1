import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { SlipwayError } from '../../src/core/errors.js';
import { parseRetryAfter } from '../../src/forges/api-errors.js';
import { parseCommand } from '../../src/forges/commands.js';
import { createGithubClient, githubError } from '../../src/forges/github/client.js';
import { githubHasWriteAccess } from '../../src/forges/github/acl.js';
import { feedbackBackoff } from '../../src/queue/index.js';
import { startFakeGithub, type FakeGithub } from './fakes/github-api.js';

describe('comment commands', () => {
  it.each([
    ['/retest', 'retest'],
    ['/ok-to-test', 'ok-to-test'],
    ['  /cancel  ', 'cancel'],
    ['LGTM\n/retest please', 'retest'],
    ['/retested', undefined],
    ['please /retest', undefined],
    ['> /retest', undefined],
    ['/Retest', undefined],
    ['/deploy', undefined],
    ['', undefined],
  ])('%j → %s', (body, expected) => {
    expect(parseCommand(body)).toBe(expected);
  });
});

describe('Retry-After (RFC 9110 §10.2.3)', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  it.each([
    ['120', 120_000],
    ['0', 0],
    ['Wed, 01 Jan 2025 00:00:30 GMT', 30_000],
    ['Tue, 31 Dec 2024 23:00:00 GMT', 0],
    ['soon', undefined],
    [undefined, undefined],
    ['999999', 3600_000],
  ])('%s → %s ms', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });
});

describe('GitHub errors → retries (docs.github.com "Rate limits for the REST API")', () => {
  const now = 1_700_000_000_000;
  const failure = (status: number, headers: Record<string, string>, message = 'x') => ({ status, message, response: { status, headers, data: { message } } });
  it.each([
    ['secondary limit with retry-after', failure(403, { 'retry-after': '7' }), 'SLW_FORGE_RATE_LIMITED', 7000],
    [
      'primary limit: remaining 0 until reset',
      failure(403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(now / 1000 + 90) }),
      'SLW_FORGE_RATE_LIMITED',
      90_000,
    ],
    ['secondary limit named only in the message: one minute', failure(403, {}, 'You have exceeded a secondary rate limit'), 'SLW_FORGE_RATE_LIMITED', 60_000],
    ['429 without headers: one minute', failure(429, {}), 'SLW_FORGE_RATE_LIMITED', 60_000],
    [
      '403 without limit: no permission',
      failure(403, { 'x-ratelimit-remaining': '4999' }, 'Resource not accessible by integration'),
      'SLW_FORGE_FORBIDDEN',
      undefined,
    ],
    ['502', failure(502, {}), 'SLW_FORGE_UNREACHABLE', undefined],
    ['422', failure(422, {}, 'Validation Failed'), 'SLW_FORGE_REJECTED', undefined],
    ['no answer', { status: 500, message: 'connect ECONNREFUSED 127.0.0.1:1' }, 'SLW_FORGE_UNREACHABLE', undefined],
  ])('%s', (_name, err, code, retryAfterMs) => {
    const e = githubError(err, 'testing', now);
    expect(e.code).toBe(code);
    expect(e.details?.['retryAfterMs']).toBe(retryAfterMs);
  });

  it('backoff waits what the forge asked for, else doubles from the base', () => {
    const backoff = feedbackBackoff(100);
    const limited = new SlipwayError('SLW_FORGE_RATE_LIMITED', 'x', { details: { retryAfterMs: 4242 } });
    expect(backoff(1, 'forge', limited)).toBe(4242);
    expect(backoff(1, 'forge', new Error('x'))).toBe(100);
    expect(backoff(4, 'forge', new Error('x'))).toBe(800);
    expect(backoff(40, 'forge', new Error('x'))).toBe(600_000);
  });
});

describe('GitHub App authentication (strict fake GitHub API)', () => {
  let fake: FakeGithub | undefined;
  afterEach(async () => {
    await fake?.close();
  });
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = { private: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(), public: publicKey.export({ type: 'spki', format: 'pem' }).toString() };

  it('finds the installation with a JWT and reuses its token until shortly before it expires (strict fake GitHub API)', async () => {
    fake = await startFakeGithub({ app: { id: 4242, publicKeyPem: pem.public, installationId: 77 }, permissions: { maintainer: 'write', reader: 'read' } });
    const client = createGithubClient({ url: fake.url, app: { id: 4242, privateKey: pem.private } }, undefined)!;
    expect(await githubHasWriteAccess(client, 'octo/hello', 'maintainer')).toBe(true);
    expect(await githubHasWriteAccess(client, 'octo/hello', 'reader')).toBe(false);
    expect(await githubHasWriteAccess(client, 'octo/hello', 'stranger')).toBe(false);
    expect(fake.tokensMinted).toBe(1);
    expect(fake.calls.filter((c) => c.path === '/repos/octo/hello/installation')).toHaveLength(1);
    expect(fake.violations).toEqual([]);
  });

  it('mints a new installation token when the cached one is about to expire (strict fake GitHub API)', async () => {
    // GitHub Enterprise or a clock skew can hand out tokens that live less than the usual hour.
    fake = await startFakeGithub({
      app: { id: 4242, publicKeyPem: pem.public, installationId: 77, tokenLifetimeMs: 4 * 60 * 1000 },
      permissions: { maintainer: 'write' },
    });
    const client = createGithubClient({ url: fake.url, app: { id: 4242, privateKey: pem.private } }, undefined)!;
    await githubHasWriteAccess(client, 'octo/hello', 'maintainer');
    await githubHasWriteAccess(client, 'octo/hello', 'maintainer');
    expect(fake.tokensMinted).toBe(2);
    expect(fake.violations).toEqual([]);
  });
});

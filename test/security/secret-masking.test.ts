import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretMasker } from '../../src/log/index.js';
import { knownSecrets } from '../../src/pipeline/known-secrets.js';
import type { BuildEvent } from '../../src/queue/index.js';
import { TestRepo } from '../helpers/git.js';
import { API_AUTH, buildEnded, deliverGithub, servingApp, startTestRuntime, testConfig, type TestRuntime } from '../helpers/runtime.js';
import { githubPush } from '../helpers/webhooks.js';

/**
 * A build step that prints a build secret (plainly, or base64-encoded) through the real pipeline and
 * BuildKit: the stored log (GET …/logs), the live SSE stream and the build events show *** instead.
 */

const SECRET = `sw-mask-${randomBytes(12).toString('hex')}`;
const B64 = Buffer.from(SECRET).toString('base64');

describe('secrets printed by a build step are masked (real BuildKit)', () => {
  let rt: TestRuntime;
  let repo: TestRepo;

  beforeAll(async () => {
    repo = new TestRepo();
    rt = await startTestRuntime({
      env: { SLIPWAY_TEST_MASKED_TOKEN: SECRET },
      config: {
        apps: [
          {
            name: 'masked',
            repo: 'github:octo/masked',
            cloneUrl: repo.bare,
            branches: { main: 'local' },
            buildSecrets: { token: 'SLIPWAY_TEST_MASKED_TOKEN' },
          },
        ],
      },
    });
  });
  afterAll(async () => {
    await rt?.stop();
    repo?.cleanup();
  });

  it('`cat` and `base64` of the secret show *** in the stored log, the SSE stream and the published events', async () => {
    // A nonce in the steps: BuildKit's cache key does not include the secret, and a cached step prints nothing.
    const nonce = randomBytes(6).toString('hex');
    const extra = [
      `RUN --mount=type=secret,id=token,required=true echo "plain-${nonce}: $(cat /run/secrets/token)"`,
      `RUN --mount=type=secret,id=token,required=true echo "b64-${nonce}:" && base64 /run/secrets/token`,
      '',
    ].join('\n');
    const pushed = await deliverGithub(rt, 'push', githubPush({ repo: 'octo/masked', commit: repo.commit(servingApp('masked\n', { extra })) }));
    const id = pushed.builds[0]!.id;
    const published: BuildEvent[] = [];
    const unfollow = await rt.events.follow(id, (e) => published.push(e));
    const sse = fetch(`${rt.url}/api/v1/builds/${id}/logs`, { headers: { accept: 'text/event-stream', ...API_AUTH } }).then((r) => r.text());

    const build = await buildEnded(rt, id);
    const stream = await sse;
    unfollow();
    const stored = await (await fetch(`${rt.url}/api/v1/builds/${id}/logs`, { headers: API_AUTH })).text();
    expect(build.state, stored).toBe('ready');

    // The steps ran and printed (masked) what they were given.
    expect(stored).toContain(`plain-${nonce}: ***`);
    expect(stored).toMatch(new RegExp(`b64-${nonce}:[\\s\\S]*\\*\\*\\*`));
    const live = published
      .filter((e) => e.type === 'log')
      .map((e) => (e.type === 'log' ? e.line : ''))
      .join('\n');
    expect(live).toContain(`plain-${nonce}: ***`);
    expect(stream).toContain(`plain-${nonce}: ***`);
    for (const text of [stored, stream, live]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(B64);
      expect(text).not.toContain(B64.replace(/=+$/, ''));
    }
  });
});

describe('the secret masker', () => {
  it('masks values, their base64 and URL-encoded forms and each line of a multi-line value, not values under 4 characters', () => {
    const masker = new SecretMasker(['p@ss word/1', '-----BEGIN KEY-----\nMIIBVQIBADANBgkq\n-----END KEY-----', 'abc', undefined]);
    expect(masker.mask('x p@ss word/1 y')).toBe('x *** y');
    expect(masker.mask(`token=${encodeURIComponent('p@ss word/1')}`)).toBe('token=***');
    expect(masker.mask(Buffer.from('p@ss word/1').toString('base64'))).toBe('***');
    expect(masker.mask('line: MIIBVQIBADANBgkq')).toBe('line: ***');
    expect(masker.mask('abc is too short to mask')).toBe('abc is too short to mask');
  });

  it('masks the 76-column lines `base64` prints for a long value', () => {
    const long = randomBytes(120).toString('hex');
    const wrapped = Buffer.from(long)
      .toString('base64')
      .match(/.{1,76}/g)!;
    const masker = new SecretMasker([long]);
    for (const line of wrapped.filter((l) => l.length >= 4)) expect(masker.mask(line)).toBe('***');
  });

  it('knows the build secrets of every app, the signing password, forge tokens, URL passwords and credential-named variables', () => {
    const config = testConfig('/tmp/unused', 'p', {
      github: { webhookSecret: 'gh-hook-secret', token: 'ghp_tokenvalue' },
      database: 'postgres://slipway:db-pass-1@127.0.0.1:5432/slipway',
      apps: [{ name: 'a', repo: 'github:o/a', branches: { main: 'local' }, buildSecrets: { npm: 'NPM_RC' } }],
    });
    const secrets = knownSecrets(config, { NPM_RC: 'npm-secret', SLIPWAY_KEY_PASSWORD: 'key-pass', REGISTRY_PASSWORD: 'reg-pass', HOME: '/root' });
    expect(secrets).toEqual(expect.arrayContaining(['npm-secret', 'key-pass', 'gh-hook-secret', 'ghp_tokenvalue', 'db-pass-1', 'reg-pass']));
    expect(secrets).not.toContain('/root');
  });
});

import { describe, expect, it } from 'vitest';
import { isSlipwayError, type SlipwayError } from '../../src/core/errors.js';
import { createGitlabForge } from '../../src/forges/gitlab/index.js';
import type { DetectResult, WebhookHeaders, WebhookRequest } from '../../src/forges/types.js';
import { hasShared, sharedFixture, sharedJson } from '../helpers/shared.js';

type Payload = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

// The docs' fixtures live on http://example.com: with gitlab.gitUrl set to it, derived clone URLs equal theirs.
const GIT_URL = 'http://example.com';
const gitlab = createGitlabForge({ secret: 'unused by detect', gitUrl: GIT_URL });
const UUID = '0b8ec9a1-5a3b-4c3c-9c5e-6d1b7f5e2a10';

function request(event: string | undefined, body: Payload | string | Buffer, headers: WebhookHeaders = {}): WebhookRequest {
  const rawBody = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const base: WebhookHeaders = { 'x-gitlab-event-uuid': UUID, 'content-type': 'application/json' };
  if (event !== undefined) base['x-gitlab-event'] = event;
  return { headers: { ...base, ...headers }, rawBody };
}

const detect = (event: string | undefined, body: Payload | string | Buffer, headers?: WebhookHeaders): DetectResult =>
  gitlab.detect(request(event, body, headers));

function accepted(result: DetectResult) {
  if (result.kind !== 'accepted') throw new Error(`expected accepted, got ${JSON.stringify(result)}`);
  return result.event;
}

function errorOf(fn: () => unknown): SlipwayError {
  try {
    fn();
  } catch (err) {
    if (isSlipwayError(err)) return err;
    throw err;
  }
  throw new Error('expected a SlipwayError, nothing was thrown');
}

/** A deep copy of `base` with dotted paths set (undefined deletes); keeps variant tables one line each. */
function patch(base: Payload, changes: Record<string, unknown>): Payload {
  const copy = structuredClone(base);
  for (const [path, value] of Object.entries(changes)) {
    const keys = path.split('.');
    const last = keys.pop()!;
    let node: Payload = copy;
    for (const k of keys) node = node[k] as Payload;
    if (value === undefined) delete node[last];
    else node[last] = value;
  }
  return copy;
}

const MINIMAL_PUSH = {
  object_kind: 'push',
  ref: 'refs/heads/main',
  before: '1'.repeat(40),
  after: '2'.repeat(40),
  checkout_sha: '2'.repeat(40),
  user_username: 'jsmith',
  project: { path_with_namespace: 'group/sub/app', git_http_url: 'https://gitlab.example/group/sub/app.git', web_url: 'https://gitlab.example/group/sub/app' },
};

describe('GitLab request checks (no fixtures needed)', () => {
  it.each([
    ['no X-Gitlab-Event header', {}],
    ['a GitHub delivery', { 'x-github-event': 'push', 'x-github-delivery': 'd' }],
  ])('is foreign with %s', (_name, headers) => {
    expect(gitlab.detect({ headers, rawBody: Buffer.from('{}') })).toEqual({ kind: 'foreign' });
  });

  it.each([
    ['X-Gitlab-Event-UUID', { 'x-gitlab-event-uuid': 'event-uuid', 'x-gitlab-webhook-uuid': 'hook-uuid' }, 'event-uuid'],
    ['X-Gitlab-Webhook-UUID when the event UUID is absent', { 'x-gitlab-event-uuid': undefined, 'x-gitlab-webhook-uuid': 'hook-uuid' }, 'hook-uuid'],
    ['X-Gitlab-Webhook-UUID when the event UUID is empty', { 'x-gitlab-event-uuid': '', 'x-gitlab-webhook-uuid': 'hook-uuid' }, 'hook-uuid'],
  ])('takes the delivery id from %s', (_name, headers, expected) => {
    expect(accepted(detect('Push Hook', MINIMAL_PUSH, headers)).deliveryId).toBe(expected);
  });

  it('is malformed without either UUID header', () => {
    const err = errorOf(() => detect('Push Hook', MINIMAL_PUSH, { 'x-gitlab-event-uuid': undefined }));
    expect(err.code).toBe('SLW_WEBHOOK_MALFORMED');
    expect(err.message).toContain('X-Gitlab-Event-UUID');
  });

  it.each([
    ['form-urlencoded (GitHub-only)', 'application/x-www-form-urlencoded'],
    ['text/plain', 'text/plain'],
    ['no content type', undefined],
  ])('rejects %s with SLW_WEBHOOK_MEDIA_TYPE', (_name, contentType) => {
    expect(errorOf(() => detect('Push Hook', MINIMAL_PUSH, { 'content-type': contentType })).code).toBe('SLW_WEBHOOK_MEDIA_TYPE');
  });

  it('accepts JSON with a charset', () => {
    expect(accepted(detect('Push Hook', MINIMAL_PUSH, { 'content-type': 'application/json; charset=utf-8' })).kind).toBe('push');
  });

  it.each([
    ['truncated JSON', '{"object_kind": "push"'],
    ['an empty body', ''],
  ])('rejects %s as malformed, saying so', (_name, body) => {
    const err = errorOf(() => detect('Push Hook', body));
    expect(err.code).toBe('SLW_WEBHOOK_MALFORMED');
    expect(err.message).toMatch(/not valid JSON \(.+\)/);
  });

  it.each([
    ['Push Hook', 'project.git_http_url', patch(MINIMAL_PUSH, { 'project.git_http_url': undefined })],
    ['Push Hook', 'after', patch(MINIMAL_PUSH, { after: null })],
    ['Push Hook', 'object_kind', patch(MINIMAL_PUSH, { object_kind: 'tag_push' })],
    ['Tag Push Hook', 'object_kind', MINIMAL_PUSH],
    ['Merge Request Hook', 'object_attributes', { object_kind: 'merge_request' }],
  ])('a %s schema failure names the field %s', (event, field, body) => {
    const err = errorOf(() => detect(event, body));
    expect(err.code).toBe('SLW_WEBHOOK_MALFORMED');
    expect(err.message).toContain(` at ${field}:`);
    expect(err.details).toMatchObject({ event, field });
  });

  it.each([
    [
      'a deleted branch',
      'Push Hook',
      patch(MINIMAL_PUSH, { ref: 'refs/heads/feature/x', after: '0'.repeat(40), checkout_sha: null }),
      'push: branch "feature/x" deleted',
    ],
    [
      'a deleted tag',
      'Tag Push Hook',
      patch(MINIMAL_PUSH, { object_kind: 'tag_push', ref: 'refs/tags/v2', after: '0'.repeat(40), checkout_sha: null }),
      'tag_push: tag "v2" deleted',
    ],
    ['a Push Hook for a non-branch ref', 'Push Hook', patch(MINIMAL_PUSH, { ref: 'refs/tags/v2' }), 'push: ref "refs/tags/v2" is not a branch'],
  ])('ignores %s', (_name, event, body, reason) => {
    expect(detect(event, body)).toEqual({ kind: 'ignored', reason, deliveryId: UUID });
  });

  it('maps a branch push; GitLab does not say whether it was forced', () => {
    expect(accepted(detect('Push Hook', MINIMAL_PUSH))).toEqual({
      forge: 'gitlab',
      kind: 'push',
      deliveryId: UUID,
      // The clone URL is gitlab.gitUrl + the project path, whatever git_http_url the payload claims.
      repo: { forge: 'gitlab', fullName: 'group/sub/app', cloneUrl: `${GIT_URL}/group/sub/app.git`, webUrl: 'https://gitlab.example/group/sub/app' },
      sender: 'jsmith',
      ref: 'refs/heads/main',
      branch: 'main',
      commit: '2'.repeat(40),
      before: '1'.repeat(40),
      forced: false,
    });
  });

  it('takes an annotated tag’s commit from checkout_sha, not the tag object in `after`', () => {
    const tag = patch(MINIMAL_PUSH, { object_kind: 'tag_push', ref: 'refs/tags/v1', after: 'a'.repeat(40), checkout_sha: 'c'.repeat(40) });
    expect(accepted(detect('Tag Push Hook', tag))).toMatchObject({ kind: 'tag', tag: 'v1', commit: 'c'.repeat(40) });
  });

  it.each(['Pipeline Hook', 'Job Hook', 'Issue Hook', 'System Hook', 'Deployment Hook'])('ignores %s without parsing its body', (event) => {
    expect(detect(event, 'not json')).toEqual({ kind: 'ignored', reason: `unsupported event "${event}"`, deliveryId: UUID });
  });
});

describe.skipIf(!hasShared())(
  'GitLab fixtures from ../shared/fixtures/gitlab (skipped when shared/ is not checked out beside the repo; set SLIPWAY_SHARED_DIR)',
  () => {
    // Fixtures are read inside the tests: vitest still runs a skipped suite's body to collect it.
    const fixture = (rel: string) => sharedFixture(`gitlab/${rel}`);
    const json = (rel: string) => sharedJson(`gitlab/${rel}`);

    it.each([
      ['gitlab-docs/push-hook.json', 'Push Hook', 'push'],
      ['gitlab-docs/tag-push-hook.json', 'Tag Push Hook', 'tag'],
      ['gitlab-docs/merge-request-hook.json', 'Merge Request Hook', 'change_request'],
      ['xanzy-go-gitlab/push.json', 'Push Hook', 'push'],
      ['xanzy-go-gitlab/tag_push.json', 'Tag Push Hook', 'tag'],
      ['xanzy-go-gitlab/merge_request.json', 'Merge Request Hook', 'change_request'],
      ['xanzy-go-gitlab/service_merge_request.json', 'Merge Request Hook', 'change_request'],
      ['xanzy-go-gitlab/pipeline.json', 'Pipeline Hook', 'unsupported event "Pipeline Hook"'],
      ['xanzy-go-gitlab/job.json', 'Job Hook', 'unsupported event "Job Hook"'],
      // Notes are read for commands; this one ("This MR needs work.") holds none.
      ['xanzy-go-gitlab/note_merge_request.json', 'Note Hook', 'note: no Slipway command'],
    ])('%s as %s → %s', (rel, event, expected) => {
      // The stored bytes, exactly as GitLab's docs / go-gitlab hold them.
      const result = detect(event, fixture(rel));
      if (result.kind === 'ignored') expect(result.reason).toBe(expected);
      else expect(accepted(result).kind).toBe(expected);
    });

    it('rejects xanzy group_merge_request.json, whose keys carry trailing spaces ("iid "), naming the field', () => {
      const err = errorOf(() => detect('Merge Request Hook', fixture('xanzy-go-gitlab/group_merge_request.json')));
      expect(err.code).toBe('SLW_WEBHOOK_MALFORMED');
      expect(err.details).toMatchObject({ field: 'object_attributes.iid' });
    });

    it('maps the docs push hook field by field', () => {
      expect(accepted(detect('Push Hook', fixture('gitlab-docs/push-hook.json')))).toEqual({
        forge: 'gitlab',
        kind: 'push',
        deliveryId: UUID,
        repo: { forge: 'gitlab', fullName: 'mike/diaspora', cloneUrl: 'http://example.com/mike/diaspora.git', webUrl: 'http://example.com/mike/diaspora' },
        sender: 'jsmith',
        ref: 'refs/heads/master',
        branch: 'master',
        commit: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
        before: '95790bf891e76fee5e1747ab589903a6a1f80f22',
        forced: false,
      });
    });

    it('maps the docs tag push hook; its sender is unknown because the example omits user_username', () => {
      expect(accepted(detect('Tag Push Hook', fixture('gitlab-docs/tag-push-hook.json')))).toEqual({
        forge: 'gitlab',
        kind: 'tag',
        deliveryId: UUID,
        repo: { forge: 'gitlab', fullName: 'jsmith/example', cloneUrl: 'http://example.com/jsmith/example.git', webUrl: 'http://example.com/jsmith/example' },
        sender: '',
        ref: 'refs/tags/v1.0.0',
        tag: 'v1.0.0',
        commit: '82b3d5ae55f7080f1e6022629cdb57bfae7cccc7',
      });
    });

    it('maps the docs merge request hook (action open) field by field', () => {
      expect(accepted(detect('Merge Request Hook', fixture('gitlab-docs/merge-request-hook.json')))).toEqual({
        forge: 'gitlab',
        kind: 'change_request',
        deliveryId: UUID,
        repo: {
          forge: 'gitlab',
          fullName: 'gitlabhq/gitlab-test',
          cloneUrl: 'http://example.com/gitlabhq/gitlab-test.git',
          webUrl: 'http://example.com/gitlabhq/gitlab-test',
        },
        sender: 'root',
        action: 'opened',
        number: 1,
        merged: false,
        fork: false,
        headRef: 'ms-viewport',
        headSha: 'da1560886d4f094c3e6c9ef40349f7d38b5d27d7',
        headCloneUrl: 'http://example.com/awesome_space/awesome_project.git',
        baseRef: 'master',
        title: 'MS-Viewport',
        webUrl: 'http://example.com/diaspora/merge_requests/1',
      });
    });

    it('maps go-gitlab’s update with oldrev to synchronize', () => {
      expect(accepted(detect('Merge Request Hook', fixture('xanzy-go-gitlab/service_merge_request.json')))).toMatchObject({
        action: 'synchronize',
        number: 2,
        headSha: '0ab96a10266b95b4b533dcfd98738015fbe70889',
      });
    });

    // The fixtures' authoritative MR example is `open` only; the other actions are derived from it,
    // changing what GitLab's docs say changes (object_attributes.action, and oldrev for updates).
    const OLDREV = 'a'.repeat(40);
    it.each([
      ['update with new commits', { 'object_attributes.action': 'update', 'object_attributes.oldrev': OLDREV }, { action: 'synchronize', merged: false }],
      ['reopen', { 'object_attributes.action': 'reopen', 'object_attributes.state': 'opened' }, { action: 'reopened', merged: false }],
      ['close', { 'object_attributes.action': 'close', 'object_attributes.state': 'closed' }, { action: 'closed', merged: false }],
      ['merge', { 'object_attributes.action': 'merge', 'object_attributes.state': 'merged' }, { action: 'closed', merged: true }],
    ])('maps %s', (_name, changes, expected) => {
      const body = patch(json('gitlab-docs/merge-request-hook.json'), changes);
      expect(accepted(detect('Merge Request Hook', body))).toMatchObject({ kind: 'change_request', ...expected });
    });

    it.each([
      ['update without oldrev (title/label edit)', { 'object_attributes.action': 'update' }, 'merge_request: update without new commits'],
      ['update with a null oldrev', { 'object_attributes.action': 'update', 'object_attributes.oldrev': null }, 'merge_request: update without new commits'],
      ['approved', { 'object_attributes.action': 'approved' }, 'merge_request: unsupported action "approved"'],
      ['unapproved', { 'object_attributes.action': 'unapproved' }, 'merge_request: unsupported action "unapproved"'],
      ['approval', { 'object_attributes.action': 'approval' }, 'merge_request: unsupported action "approval"'],
      ['unapproval', { 'object_attributes.action': 'unapproval' }, 'merge_request: unsupported action "unapproval"'],
    ])('ignores %s', (_name, changes, reason) => {
      const body = patch(json('gitlab-docs/merge-request-hook.json'), changes);
      expect(detect('Merge Request Hook', body)).toEqual({ kind: 'ignored', reason, deliveryId: UUID });
    });

    it.each([
      ['same project', {}, false, 'http://example.com/awesome_space/awesome_project.git'],
      ['a fork (source project differs)', { 'object_attributes.source_project_id': 99 }, true, 'http://example.com/awesome_space/awesome_project.git'],
      [
        'a fork whose project was deleted (source null): target clone URL',
        { 'object_attributes.source_project_id': 99, 'object_attributes.source': null },
        true,
        'http://example.com/gitlabhq/gitlab-test.git',
      ],
    ])('fork detection: %s', (_name, changes, fork, headCloneUrl) => {
      const body = patch(json('gitlab-docs/merge-request-hook.json'), changes);
      expect(accepted(detect('Merge Request Hook', body))).toMatchObject({ fork, headCloneUrl });
    });

    it.each([
      ['branch deletion', 'gitlab-docs/push-hook.json', 'Push Hook', 'push: branch "master" deleted'],
      ['tag deletion', 'gitlab-docs/tag-push-hook.json', 'Tag Push Hook', 'tag_push: tag "v1.0.0" deleted'],
    ])('ignores a %s derived from the docs example', (_name, rel, event, reason) => {
      const body = patch(json(rel), { after: '0'.repeat(40), checkout_sha: null, commits: [] });
      expect(detect(event, body)).toEqual({ kind: 'ignored', reason, deliveryId: UUID });
    });
  },
);

describe('test/helpers/shared', () => {
  it('says what is missing and how to fix it', () => {
    expect(() => sharedFixture('gitlab/no-such-file.json')).toThrow(
      '../shared/fixtures/gitlab/no-such-file.json is absent: tests that need shared fixtures expect a checkout of shared/ beside the repo (set SLIPWAY_SHARED_DIR)',
    );
  });
});

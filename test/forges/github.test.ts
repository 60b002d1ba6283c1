import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { isSlipwayError, type SlipwayError } from '../../src/core/errors.js';
import { createGithubForge } from '../../src/forges/github/index.js';
import type { DetectResult, WebhookHeaders } from '../../src/forges/types.js';

/** GitHub's payload examples (@octokit/webhooks-examples): `[{name, actions, examples: [payload…]}]`. */
type Payload = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
interface ExampleGroup {
  name: string;
  examples: Payload[];
}
const examplesPath = createRequire(import.meta.url).resolve('@octokit/webhooks-examples');
const groups = JSON.parse(readFileSync(examplesPath, 'utf8')) as ExampleGroup[];
function examples(name: string): Payload[] {
  const group = groups.find((g) => g.name === name);
  if (group === undefined) throw new Error(`@octokit/webhooks-examples has no "${name}" examples`);
  return group.examples;
}

const github = createGithubForge({ secret: 'unused by detect' });
const DELIVERY = '72d3162e-cc78-11e3-81ab-4c9367dc0958';

function request(event: string | undefined, body: Payload | string, headers: WebhookHeaders = {}) {
  const rawBody = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const base: WebhookHeaders = { 'x-github-delivery': DELIVERY, 'content-type': 'application/json' };
  if (event !== undefined) base['x-github-event'] = event;
  return { headers: { ...base, ...headers }, rawBody };
}

function detect(event: string | undefined, body: Payload | string, headers?: WebhookHeaders): DetectResult {
  return github.detect(request(event, body, headers));
}

function accepted(result: DetectResult) {
  if (result.kind !== 'accepted') throw new Error(`expected accepted, got ${JSON.stringify(result)}`);
  return result.event;
}

function detectError(event: string | undefined, body: Payload | string, headers?: WebhookHeaders): SlipwayError {
  return errorOf(() => detect(event, body, headers));
}

function errorOf(fn: () => unknown): SlipwayError {
  try {
    fn();
  } catch (err) {
    if (isSlipwayError(err)) return err;
    throw err;
  }
  throw new Error('expected detect to throw');
}

/** What Slipway should make of each example, derived from the fields GitHub documents. */
function expectedPush(p: Payload): { kind: string; reason?: string } {
  const [, type, name] = /^refs\/(heads|tags)\/(.+)$/.exec(p['ref'] as string) ?? [];
  const what = type === 'heads' ? 'branch' : 'tag';
  if (p['deleted'] === true) return { kind: 'ignored', reason: `push: ${what} "${name}" deleted` };
  return { kind: what === 'branch' ? 'push' : 'tag' };
}

const SUPPORTED_PR_ACTIONS = ['opened', 'synchronize', 'reopened', 'closed'];
function expectedPullRequest(p: Payload): { kind: string; reason?: string } {
  const action = p['action'] as string;
  if (SUPPORTED_PR_ACTIONS.includes(action)) return { kind: 'change_request' };
  // Only Slipway's own label is an event; the examples add other labels.
  if (action === 'labeled') return { kind: 'ignored', reason: `pull_request: label "${(p['label'] as { name: string }).name}" is not slipway/ok-to-preview` };
  return { kind: 'ignored', reason: `pull_request: unsupported action "${action}"` };
}

function outcome(result: DetectResult): { kind: string; reason?: string } {
  if (result.kind === 'ignored') return { kind: 'ignored', reason: result.reason };
  if (result.kind === 'accepted') return { kind: result.event.kind };
  return { kind: 'foreign' };
}

const label = (p: Payload, i: number) => `#${i} ${p['action'] ?? p['ref']}${p['deleted'] ? ' (deleted)' : ''}`;

describe('every @octokit/webhooks-examples push example', () => {
  const table = examples('push').map((p, i) => [label(p, i), p, expectedPush(p)] as const);

  it('covers branch pushes, tag pushes and deletions', () => {
    const kinds = new Set(table.map(([, , e]) => e.reason ?? e.kind));
    expect(kinds).toEqual(new Set(['push', 'tag', 'push: tag "simple-tag" deleted']));
  });

  it.each(table)('%s', (_name, payload, expected) => {
    const result = detect('push', payload);
    expect(outcome(result)).toEqual(expected);
    if (result.kind === 'ignored') expect(result.deliveryId).toBe(DELIVERY);
  });
});

describe('every @octokit/webhooks-examples pull_request example', () => {
  const table = examples('pull_request').map((p, i) => [label(p, i), p, expectedPullRequest(p)] as const);

  it('covers every supported action and ignored ones', () => {
    const actions = new Set(table.map(([, p]) => p['action'] as string));
    for (const a of SUPPORTED_PR_ACTIONS) expect(actions).toContain(a);
    expect(actions).toContain('labeled');
  });

  it.each(table)('%s', (_name, payload, expected) => {
    expect(outcome(detect('pull_request', payload))).toEqual(expected);
  });
});

describe('every @octokit/webhooks-examples ping example', () => {
  it.each(examples('ping').map((p, i) => [`#${i} ${p['hook']?.type}`, p] as const))('%s → ping', (_name, payload) => {
    const event = accepted(detect('ping', payload));
    expect(event.kind).toBe('ping');
    expect(event.deliveryId).toBe(DELIVERY);
    expect(event.sender).toBe(payload['sender']?.login);
  });

  it('a repository hook names its repository', () => {
    const payload = examples('ping').find((p) => p['repository'] !== undefined)!;
    expect(accepted(detect('ping', payload)).repo).toEqual({
      forge: 'github',
      fullName: 'Octocoders/Hello-World',
      cloneUrl: payload['repository'].clone_url,
      webUrl: payload['repository'].html_url,
    });
  });

  it('an organization hook has no repository: the repo is the organization, with no URLs', () => {
    const payload = examples('ping').find((p) => p['repository'] === undefined)!;
    expect(accepted(detect('ping', payload)).repo).toEqual({ forge: 'github', fullName: 'Octocoders', cloneUrl: '', webUrl: '' });
  });

  it('a GitHub App hook has neither repository nor organization', () => {
    const event = accepted(detect('ping', { zen: 'Keep it logically awesome.', hook_id: 1, hook: { type: 'App', app_id: 2 } }));
    expect(event).toMatchObject({ kind: 'ping', sender: '', repo: { fullName: '', cloneUrl: '', webUrl: '' } });
  });
});

describe('push mapping', () => {
  const branchPush = examples('push').find((p) => (p['ref'] as string).startsWith('refs/heads/') && !p['deleted'])!;
  const tagPush = examples('push').find((p) => (p['ref'] as string).startsWith('refs/tags/') && !p['deleted'])!;

  it('maps a branch push field by field', () => {
    expect(accepted(detect('push', { ...branchPush, forced: true }))).toEqual({
      forge: 'github',
      kind: 'push',
      deliveryId: DELIVERY,
      repo: {
        forge: 'github',
        fullName: 'Codertocat/Hello-World',
        cloneUrl: 'https://github.com/Codertocat/Hello-World.git',
        webUrl: 'https://github.com/Codertocat/Hello-World',
      },
      sender: 'Codertocat',
      ref: 'refs/heads/master',
      branch: 'master',
      commit: branchPush['after'],
      before: branchPush['before'],
      forced: true,
    });
  });

  it('maps a tag push', () => {
    expect(accepted(detect('push', tagPush))).toMatchObject({ kind: 'tag', ref: 'refs/tags/simple-tag', tag: 'simple-tag', commit: tagPush['after'] });
  });

  it('takes an annotated tag’s commit from head_commit, not the tag object in `after`', () => {
    const annotated = { ...tagPush, after: 'a'.repeat(40), head_commit: { ...tagPush['head_commit'], id: 'c'.repeat(40) } };
    expect(accepted(detect('push', annotated))).toMatchObject({ kind: 'tag', commit: 'c'.repeat(40) });
  });

  it.each([
    // Each signal alone: GitHub's `deleted` flag, and git's all-zero new value.
    ['a deleted branch (deleted flag)', { ref: 'refs/heads/feature/x', deleted: true }, 'push: branch "feature/x" deleted'],
    ['a deleted branch (all-zero after only)', { ref: 'refs/heads/main', after: '0'.repeat(40) }, 'push: branch "main" deleted'],
    ['a deleted tag', { ref: 'refs/tags/v1.2.3', deleted: true, after: '0'.repeat(40) }, 'push: tag "v1.2.3" deleted'],
    ['a deleted branch in a SHA-256 repository', { ref: 'refs/heads/main', after: '0'.repeat(64) }, 'push: branch "main" deleted'],
    ['a ref that is neither branch nor tag', { ref: 'refs/notes/commits' }, 'push: ref "refs/notes/commits" is neither a branch nor a tag'],
  ])('ignores %s', (_name, patch, reason) => {
    expect(detect('push', { ...branchPush, deleted: false, ...patch })).toEqual({ kind: 'ignored', reason, deliveryId: DELIVERY });
  });
});

describe('pull_request mapping', () => {
  const opened = examples('pull_request').find((p) => p['action'] === 'opened')!;
  const withPr = (action: string, pr: Payload) => ({ ...opened, action, pull_request: { ...opened['pull_request'], ...pr } });
  const base = opened['pull_request'].base.repo as Payload;
  const head = opened['pull_request'].head;
  const forkRepo = { ...base, id: 999, full_name: 'Forker/Hello-World', fork: true, clone_url: 'https://github.com/Forker/Hello-World.git' };

  it('maps an opened PR field by field', () => {
    expect(accepted(detect('pull_request', opened))).toEqual({
      forge: 'github',
      kind: 'change_request',
      deliveryId: DELIVERY,
      repo: {
        forge: 'github',
        fullName: 'Codertocat/Hello-World',
        cloneUrl: 'https://github.com/Codertocat/Hello-World.git',
        webUrl: 'https://github.com/Codertocat/Hello-World',
      },
      sender: 'Codertocat',
      action: 'opened',
      number: 2,
      merged: false,
      fork: false,
      headRef: 'changes',
      headSha: head.sha,
      headCloneUrl: 'https://github.com/Codertocat/Hello-World.git',
      baseRef: 'master',
      title: 'Update the README with new information.',
      webUrl: 'https://github.com/Codertocat/Hello-World/pull/2',
    });
  });

  it.each([
    ['closed without merging', 'closed', false, false],
    ['closed by merging', 'closed', true, true],
    ['synchronize (merged is only read on close)', 'synchronize', true, false],
  ])('%s', (_name, action, merged, expected) => {
    expect(accepted(detect('pull_request', withPr(action, { merged })))).toMatchObject({ action, merged: expected });
  });

  it('reads merged: null as not merged', () => {
    expect(accepted(detect('pull_request', withPr('closed', { merged: null })))).toMatchObject({ merged: false });
  });

  it.each([
    ['same repository', head.repo, false, base.clone_url],
    ['a fork (other id and name)', forkRepo, true, forkRepo.clone_url],
    // The clone URL is derived from full_name (github.gitUrl + path), never taken from clone_url: a head that
    // claims the base's name is fetched from the base, where GitHub serves every pull request's head commit.
    ['a fork renamed to the base name (ids differ)', { ...forkRepo, full_name: base.full_name }, true, base.clone_url],
    ['a deleted fork (head.repo null): base clone URL', null, true, base.clone_url],
  ])('fork detection: %s', (_name, headRepo, fork, headCloneUrl) => {
    const payload = withPr('opened', { head: { ...head, repo: headRepo } });
    expect(accepted(detect('pull_request', payload))).toMatchObject({ fork, headCloneUrl });
  });

  it.each(['edited', 'assigned', 'ready_for_review', 'auto_merge_enabled'])('ignores action %s with Pipelines-as-Code wording', (action) => {
    expect(detect('pull_request', { action })).toEqual({
      kind: 'ignored',
      reason: `pull_request: unsupported action "${action}"`,
      deliveryId: DELIVERY,
    });
  });
});

describe('request checks', () => {
  const push = examples('push').find((p) => (p['ref'] as string).startsWith('refs/heads/'))!;

  it.each([
    ['no X-GitHub-Event header', {}],
    ['a GitLab delivery', { 'x-gitlab-event': 'Push Hook', 'x-gitlab-event-uuid': 'u' }],
  ])('is foreign with %s', (_name, headers) => {
    expect(github.detect({ headers, rawBody: Buffer.from('{}') })).toEqual({ kind: 'foreign' });
  });

  it.each([
    ['missing', {}],
    ['empty', { 'x-github-delivery': '' }],
  ])('is malformed when X-GitHub-Delivery is %s', (_name, headers) => {
    const req = request('push', push, headers);
    if (!('x-github-delivery' in headers)) delete req.headers['x-github-delivery'];
    const err = errorOf(() => github.detect(req));
    expect(err.code).toBe('SLW_WEBHOOK_MALFORMED');
    expect(err.message).toContain('X-GitHub-Delivery');
  });

  it.each([
    ['text/plain', 'text/plain'],
    ['application/xml', 'application/xml'],
    ['multipart/form-data', 'multipart/form-data; boundary=x'],
    ['no content type', undefined],
  ])('rejects %s with SLW_WEBHOOK_MEDIA_TYPE', (_name, contentType) => {
    const err = detectError('push', push, { 'content-type': contentType });
    expect(err.code).toBe('SLW_WEBHOOK_MEDIA_TYPE');
    expect(err.message).toContain('application/json');
  });

  it('accepts JSON with parameters and any case', () => {
    expect(accepted(detect('push', push, { 'content-type': 'Application/JSON; charset=utf-8' })).kind).toBe('push');
  });

  it.each([
    ['push', push],
    ['pull_request', examples('pull_request').find((p) => p['action'] === 'opened')!],
    ['ping', examples('ping')[0]!],
  ])('decodes a form-urlencoded %s delivery like its JSON twin', (event, payload) => {
    const form = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const viaForm = detect(event, form, { 'content-type': 'application/x-www-form-urlencoded' });
    expect(viaForm).toEqual(detect(event, payload));
  });

  it('rejects a form delivery without a payload field', () => {
    const err = detectError('push', 'other=1', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(err.code).toBe('SLW_WEBHOOK_MALFORMED');
    expect(err.message).toContain('"payload" field');
  });

  it.each([
    ['truncated JSON', '{"ref": "refs/heads/main"', 'application/json'],
    ['not JSON at all', 'hello', 'application/json'],
    ['a form payload that is not JSON', 'payload=%7Bnope', 'application/x-www-form-urlencoded'],
  ])('rejects %s as malformed, saying so', (_name, body, contentType) => {
    const err = detectError('push', body, { 'content-type': contentType });
    expect(err.code).toBe('SLW_WEBHOOK_MALFORMED');
    expect(err.message).toMatch(/not valid JSON \(.+\)/);
  });

  it.each([
    ['push', 'repository.full_name', { ...push, repository: { ...push['repository'], full_name: undefined } }],
    ['push', 'after', { ...push, after: 42 }],
    ['push', 'sender', { ...push, sender: undefined }],
    ['push', '(body)', []],
    ['pull_request', 'pull_request.head.sha', { action: 'opened', pull_request: { number: 1, title: 't', html_url: 'u', head: { ref: 'r' } } }],
    ['pull_request', 'action', { action: 7 }],
  ])('a %s schema failure names the field %s', (event, field, body) => {
    const err = detectError(event, body as Payload);
    expect(err.code).toBe('SLW_WEBHOOK_MALFORMED');
    expect(err.message).toContain(` at ${field}:`);
    expect(err.details).toMatchObject({ event, field });
  });

  it.each(['issues', 'check_run', 'workflow_run', 'release'])('ignores event %s without parsing its body', (event) => {
    expect(detect(event, 'not json')).toEqual({ kind: 'ignored', reason: `unsupported event "${event}"`, deliveryId: DELIVERY });
  });

  it('still refuses an unsupported event in an unsupported content type', () => {
    expect(detectError('issues', '{}', { 'content-type': 'text/plain' }).code).toBe('SLW_WEBHOOK_MEDIA_TYPE');
  });
});

import { describe, expect, it } from 'vitest';
import { createGithubForge } from '../../src/forges/github/index.js';
import { createGitlabForge } from '../../src/forges/gitlab/index.js';
import type { DetectResult } from '../../src/forges/types.js';
import { hasShared, sharedJson } from '../helpers/shared.js';
import { githubComment, githubPr } from './setup.js';

/** The webhook events forge feedback adds: comment commands and the approval label, on both forges. */

const github = createGithubForge({ secret: 'unused' });
const gitlab = createGitlabForge({ secret: 'unused' });
const detectGithub = (event: string, payload: unknown): DetectResult =>
  github.detect({
    headers: { 'x-github-event': event, 'x-github-delivery': 'd-1', 'content-type': 'application/json' },
    rawBody: Buffer.from(JSON.stringify(payload)),
  });
const detectGitlab = (event: string, payload: unknown): DetectResult =>
  gitlab.detect({
    headers: { 'x-gitlab-event': event, 'x-gitlab-event-uuid': 'u-1', 'content-type': 'application/json' },
    rawBody: Buffer.from(JSON.stringify(payload)),
  });

describe('GitHub issue_comment and labeled', () => {
  const sha = 'f'.repeat(40);
  it.each([
    [
      'a command on a pull request',
      githubComment(3, '/retest', 'maintainer'),
      { kind: 'accepted', event: expect.objectContaining({ kind: 'comment', command: 'retest', number: 3, sender: 'maintainer', head: undefined }) },
    ],
    ['no command', githubComment(3, 'nice work', 'maintainer'), { kind: 'ignored', reason: 'issue_comment: no Slipway command', deliveryId: 'd-1' }],
    [
      'a plain issue',
      { ...githubComment(3, '/retest', 'm'), issue: { number: 3 } },
      { kind: 'ignored', reason: 'issue_comment: not on a pull request', deliveryId: 'd-1' },
    ],
    [
      'an edit',
      { ...githubComment(3, '/retest', 'm'), action: 'edited' },
      { kind: 'ignored', reason: 'issue_comment: unsupported action "edited"', deliveryId: 'd-1' },
    ],
  ])('%s', (_name, payload, expected) => {
    expect(detectGithub('issue_comment', payload)).toEqual(expected);
  });

  it.each([
    [
      'slipway/ok-to-preview',
      {
        kind: 'accepted',
        event: expect.objectContaining({
          kind: 'label',
          label: 'slipway/ok-to-preview',
          number: 4,
          head: { fork: true, headSha: sha, headRef: 'feature-4', headCloneUrl: 'https://github.com/someone/hello.git' },
        }),
      },
    ],
    ['bug', { kind: 'ignored', reason: 'pull_request: label "bug" is not slipway/ok-to-preview', deliveryId: 'd-1' }],
  ])('label %s', (label, expected) => {
    expect(detectGithub('pull_request', githubPr('labeled', 4, sha, { fork: true, label }))).toEqual(expected);
  });
});

describe.skipIf(!hasShared())('GitLab Note Hook and label changes (payloads from ../shared/fixtures/gitlab)', () => {
  it('a /ok-to-test note carries the MR head', () => {
    const p = sharedJson('gitlab/xanzy-go-gitlab/note_merge_request.json') as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    p.object_attributes.note = '/ok-to-test';
    expect(detectGitlab('Note Hook', p)).toEqual({
      kind: 'accepted',
      event: expect.objectContaining({
        kind: 'comment',
        command: 'ok-to-test',
        number: p.merge_request.iid,
        sender: 'root',
        senderId: 1,
        head: expect.objectContaining({ headSha: p.merge_request.last_commit.id, fork: false }),
      }),
    });
  });

  it('an update that adds slipway/ok-to-preview is a label event; other label edits are not', () => {
    const p = sharedJson('gitlab/xanzy-go-gitlab/merge_request.json') as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    p.object_attributes.action = 'update';
    delete p.object_attributes.oldrev;
    expect(detectGitlab('Merge Request Hook', p)).toMatchObject({ kind: 'ignored', reason: 'merge_request: update without new commits' });
    p.changes.labels.current.push({ title: 'slipway/ok-to-preview' });
    expect(detectGitlab('Merge Request Hook', p)).toEqual({
      kind: 'accepted',
      event: expect.objectContaining({ kind: 'label', label: 'slipway/ok-to-preview', senderId: p.user.id }),
    });
  });
});

import { githubTerms } from './terms.js';
import { forgeCloneUrl } from '../../core/git-names.js';
import { SlipwayError } from '../../core/errors.js';
import type { ChangeRequestAction, ChangeRequestEvent, ChangeRequestHead, PingEvent, RepoRef } from '../events.js';
import { OK_TO_PREVIEW_LABEL, parseCommand } from '../commands.js';
import { decodeJson, parsePayload, requireMediaType, single } from '../http.js';
import type { DetectResult, WebhookRequest } from '../types.js';
import {
  issueCommentAction,
  issueCommentPayload,
  pingPayload,
  pullRequestLabeledPayload,
  pullRequestAction,
  pullRequestPayload,
  pushPayload,
  type IssueCommentPayload,
  type PingPayload,
  type PullRequestPayload,
  type PushPayload,
} from './schemas.js';

/**
 * GitHub deliveries → ForgeEvent. Header names and content types: docs.github.com, "Webhook events and
 * payloads" ("Delivery headers"). Ignore reasons are data shown to users; their wording follows
 * Pipelines-as-Code (`pull_request: unsupported action "labeled"`).
 */

/** PR actions that change what a preview should run; the rest (labeled, assigned, …) build nothing. */
const PR_ACTIONS: ReadonlySet<string> = new Set<ChangeRequestAction>(['opened', 'synchronize', 'reopened', 'closed']);

const BRANCH_PREFIX = 'refs/heads/';
const TAG_PREFIX = 'refs/tags/';

/** All-zero object id: 40 digits (SHA-1 repos) or 64 (SHA-256 repos). */
const ZERO_SHA = /^0+$/;

/** GitHub offers exactly these two content types on a webhook ("Creating webhooks": Content type). */
const MEDIA_TYPES = ['application/json', 'application/x-www-form-urlencoded'] as const;
type MediaType = (typeof MEDIA_TYPES)[number];

/** `gitUrl`: where this GitHub's repositories are cloned from (`github.gitUrl`). */
export function detectGithub(req: WebhookRequest, gitUrl = 'https://github.com'): DetectResult {
  const event = single(req.headers, githubTerms.eventHeader);
  if (event === undefined) return { kind: 'foreign' };
  const deliveryId = single(req.headers, 'x-github-delivery');
  if (deliveryId === undefined || deliveryId === '') {
    throw new SlipwayError(
      'SLW_WEBHOOK_MALFORMED',
      `GitHub "${event}" delivery has no X-GitHub-Delivery header: send deliveries from GitHub itself, or add the header when replaying one`,
      { details: { event } },
    );
  }
  const type = requireMediaType(req.headers, githubTerms, event, MEDIA_TYPES, "set the webhook's content type to application/json");

  switch (event) {
    case 'push':
      return fromPush(parsePayload(pushPayload, decode(req.rawBody, type, event), githubTerms, event), deliveryId, gitUrl);
    case 'pull_request': {
      const body = decode(req.rawBody, type, event);
      const { action } = parsePayload(pullRequestAction, body, githubTerms, event);
      if (action === 'labeled') return fromLabeled(body, event, deliveryId, gitUrl);
      if (!isPrAction(action)) return ignored(deliveryId, `pull_request: unsupported action "${action}"`);
      return { kind: 'accepted', event: fromPullRequest(parsePayload(pullRequestPayload, body, githubTerms, event), action, deliveryId, gitUrl) };
    }
    case 'issue_comment':
      return fromIssueComment(decode(req.rawBody, type, event), event, deliveryId, gitUrl);
    case 'ping':
      return { kind: 'accepted', event: fromPing(parsePayload(pingPayload, decode(req.rawBody, type, event), githubTerms, event), deliveryId, gitUrl) };
    default:
      // Not parsed: an event Slipway does not use cannot make the delivery malformed.
      return ignored(deliveryId, `unsupported event "${event}"`);
  }
}

function ignored(deliveryId: string, reason: string): DetectResult {
  return { kind: 'ignored', reason, deliveryId };
}

function isPrAction(action: string): action is ChangeRequestAction {
  return PR_ACTIONS.has(action);
}

function fromPush(p: PushPayload, deliveryId: string, gitUrl: string): DetectResult {
  // `deleted` is GitHub's flag; the all-zero `after` is what git itself sends for a deletion.
  const deleted = p.deleted === true || ZERO_SHA.test(p.after);
  const base = { forge: 'github' as const, deliveryId, repo: repoRef(p.repository, gitUrl), sender: p.sender.login, ref: p.ref };
  if (p.ref.startsWith(BRANCH_PREFIX)) {
    const branch = p.ref.slice(BRANCH_PREFIX.length);
    if (deleted) return ignored(deliveryId, `push: branch "${branch}" deleted`);
    return {
      kind: 'accepted',
      event: { ...base, kind: 'push', branch, commit: p.after, before: p.before, forced: p.forced ?? false },
    };
  }
  if (p.ref.startsWith(TAG_PREFIX)) {
    const tag = p.ref.slice(TAG_PREFIX.length);
    if (deleted) return ignored(deliveryId, `push: tag "${tag}" deleted`);
    // For an annotated tag `after` is the tag object, not a commit; head_commit is the commit it points at
    // (GitHub changelog 2021-10-01). `after` remains right for lightweight tags when head_commit is absent.
    return { kind: 'accepted', event: { ...base, kind: 'tag', tag, commit: p.head_commit?.id ?? p.after } };
  }
  // GitHub only sends branch and tag pushes today; anything else (refs/notes/…) builds nothing.
  return ignored(deliveryId, `push: ref "${p.ref}" is neither a branch nor a tag`);
}

function fromPullRequest(p: PullRequestPayload, action: ChangeRequestAction, deliveryId: string, gitUrl: string): ChangeRequestEvent {
  const pr = p.pull_request;
  return {
    forge: 'github',
    kind: 'change_request',
    deliveryId,
    repo: repoRef(p.repository, gitUrl),
    sender: p.sender.login,
    action,
    number: pr.number,
    merged: action === 'closed' && pr.merged === true,
    ...headOf(p, gitUrl),
    baseRef: pr.base.ref,
    title: pr.title,
    webUrl: pr.html_url,
  };
}

function headOf(p: PullRequestPayload, gitUrl: string): ChangeRequestHead {
  const pr = p.pull_request;
  const head = pr.head.repo;
  const base = pr.base.repo;
  return {
    // A deleted fork leaves head.repo null: still a fork (its commits were never vetted as the base's).
    // Ids survive renames, names catch the rest.
    fork: head === null || head.id !== base.id || head.full_name !== base.full_name,
    headRef: pr.head.ref,
    headSha: pr.head.sha,
    // With the fork deleted, GitHub still serves the head commit from the base repository
    // (refs/pull/<n>/head), so fetching headSha from the base clone URL works.
    headCloneUrl: forgeCloneUrl(gitUrl, head?.full_name ?? base.full_name),
  };
}

/** Only Slipway's own label means anything (`slipway/ok-to-preview` approves a fork's preview). */
function fromLabeled(body: unknown, event: string, deliveryId: string, gitUrl: string): DetectResult {
  const p = parsePayload(pullRequestLabeledPayload, body, githubTerms, event);
  if (p.label.name !== OK_TO_PREVIEW_LABEL) return ignored(deliveryId, `pull_request: label "${p.label.name}" is not ${OK_TO_PREVIEW_LABEL}`);
  return {
    kind: 'accepted',
    event: {
      forge: 'github',
      kind: 'label',
      deliveryId,
      repo: repoRef(p.repository, gitUrl),
      sender: p.sender.login,
      senderId: p.sender.id,
      label: p.label.name,
      number: p.pull_request.number,
      head: headOf(p, gitUrl),
    },
  };
}

/** A new comment on a pull request with a command in it; everything else builds nothing. */
function fromIssueComment(body: unknown, event: string, deliveryId: string, gitUrl: string): DetectResult {
  const { action } = parsePayload(issueCommentAction, body, githubTerms, event);
  // Edits do not re-run commands: an edited "/retest" would otherwise rebuild on every typo fix.
  if (action !== 'created') return ignored(deliveryId, `issue_comment: unsupported action "${action}"`);
  const p: IssueCommentPayload = parsePayload(issueCommentPayload, body, githubTerms, event);
  if (p.issue.pull_request === undefined || p.issue.pull_request === null) return ignored(deliveryId, 'issue_comment: not on a pull request');
  const command = parseCommand(p.comment.body ?? '');
  if (command === undefined) return ignored(deliveryId, 'issue_comment: no Slipway command');
  return {
    kind: 'accepted',
    event: {
      forge: 'github',
      kind: 'comment',
      deliveryId,
      repo: repoRef(p.repository, gitUrl),
      sender: p.sender.login,
      senderId: p.sender.id,
      command,
      number: p.issue.number,
      // Issue comment payloads do not carry the PR's head; Slipway builds the head its latest build had.
      head: undefined,
    },
  };
}

/**
 * Organization and GitHub App hooks ping without a `repository`. Such a ping concerns no repository, so
 * the repo is the owner alone: `fullName` is the organization login (or "" for an App hook), which no
 * app's `owner/name` can match, and the URLs are "" because there is nothing to clone or link.
 */
function fromPing(p: PingPayload, deliveryId: string, gitUrl: string): PingEvent {
  const repo: RepoRef = p.repository ? repoRef(p.repository, gitUrl) : { forge: 'github', fullName: p.organization?.login ?? '', cloneUrl: '', webUrl: '' };
  return { forge: 'github', kind: 'ping', deliveryId, repo, sender: p.sender?.login ?? '' };
}

/** The clone URL comes from the configured `github.gitUrl`, never from the payload (core/git-names.ts). */
function repoRef(r: { full_name: string; html_url: string }, gitUrl: string): RepoRef {
  return { forge: 'github', fullName: r.full_name, cloneUrl: forgeCloneUrl(gitUrl, r.full_name), webUrl: r.html_url };
}

/** The form format carries the same JSON in a `payload` field. */
function decode(rawBody: Buffer, type: MediaType, event: string): unknown {
  const text = rawBody.toString('utf8');
  if (type === 'application/json') return decodeJson(text, githubTerms, event);
  const payload = new URLSearchParams(text).get('payload');
  if (payload === null) {
    throw new SlipwayError(
      'SLW_WEBHOOK_MALFORMED',
      `GitHub "${event}" delivery is form-encoded but has no "payload" field: set the webhook's content type to application/json`,
      { details: { event } },
    );
  }
  return decodeJson(payload, githubTerms, event);
}

import { gitlabTerms } from './terms.js';
import { forgeCloneUrl } from '../../core/git-names.js';
import { SlipwayError } from '../../core/errors.js';
import type { ChangeRequestAction, ChangeRequestEvent, ChangeRequestHead, RepoRef } from '../events.js';
import { OK_TO_PREVIEW_LABEL, parseCommand } from '../commands.js';
import { decodeJson, parsePayload, requireMediaType, single } from '../http.js';
import type { DetectResult, WebhookRequest } from '../types.js';
import {
  mergeRequestAction,
  mergeRequestLabelChanges,
  mergeRequestNotePayload,
  mergeRequestPayload,
  mergeRequestSender,
  noteKind,
  pushPayload,
  tagPushPayload,
  type MergeRequestNotePayload,
  type MergeRequestPayload,
  type PushPayload,
  type TagPushPayload,
} from './schemas.js';

/**
 * GitLab deliveries → ForgeEvent (docs.gitlab.com, "Webhook events"; headers from "Webhooks: delivery
 * headers"). GitLab has no ping: its "Test" button sends an ordinary Push Hook, handled like any other.
 * MR actions are mapped onto GitHub's words so the pipeline sees one vocabulary. Ignore reasons are
 * prefixed with GitLab's `object_kind`, as GitHub's are with the event name.
 */

/** All-zero object id: 40 digits (SHA-1 repos) or 64 (SHA-256 repos). */
const ZERO_SHA = /^0+$/;
const BRANCH_PREFIX = 'refs/heads/';
const TAG_PREFIX = 'refs/tags/';

const MEDIA_TYPES = ['application/json'] as const;
const MEDIA_TYPE_HINT = 'GitLab sends application/json; check what sits between GitLab and Slipway';

/** `gitUrl`: where this GitLab's repositories are cloned from (`gitlab.gitUrl`). */
export function detectGitlab(req: WebhookRequest, gitUrl = 'https://gitlab.com'): DetectResult {
  const event = single(req.headers, gitlabTerms.eventHeader);
  if (event === undefined) return { kind: 'foreign' };
  // X-Gitlab-Event-UUID is the event's id (GitLab reuses it for every hook the same event triggers, so two
  // hooks pointing at Slipway dedupe to one build); X-Gitlab-Webhook-UUID (gitlab-org/gitlab!125338) is
  // unique per delivery and serves when the first is absent.
  const deliveryId = nonEmpty(single(req.headers, 'x-gitlab-event-uuid')) ?? nonEmpty(single(req.headers, 'x-gitlab-webhook-uuid'));
  if (deliveryId === undefined) {
    throw new SlipwayError(
      'SLW_WEBHOOK_MALFORMED',
      `GitLab "${event}" delivery has neither X-Gitlab-Event-UUID nor X-Gitlab-Webhook-UUID: send deliveries from GitLab itself, or add the header when replaying one`,
      { details: { event } },
    );
  }
  // GitLab always sends JSON.
  requireMediaType(req.headers, gitlabTerms, event, MEDIA_TYPES, MEDIA_TYPE_HINT);
  // Decoded only for the events below, so a body Slipway never reads cannot make a delivery malformed.
  const body = (): unknown => decodeJson(req.rawBody.toString('utf8'), gitlabTerms, event);

  switch (event) {
    case 'Push Hook':
      return fromPush(parsePayload(pushPayload, body(), gitlabTerms, event), deliveryId, gitUrl);
    case 'Tag Push Hook':
      return fromTagPush(parsePayload(tagPushPayload, body(), gitlabTerms, event), deliveryId, gitUrl);
    case 'Merge Request Hook':
      return fromMergeRequest(body(), event, deliveryId, gitUrl);
    case 'Note Hook':
      return fromNote(body(), event, deliveryId, gitUrl);
    default:
      // Not parsed: an event Slipway does not use (Pipeline Hook, …) cannot make the delivery malformed.
      return ignored(deliveryId, `unsupported event "${event}"`);
  }
}

function ignored(deliveryId: string, reason: string): DetectResult {
  return { kind: 'ignored', reason, deliveryId };
}

function fromPush(p: PushPayload, deliveryId: string, gitUrl: string): DetectResult {
  if (!p.ref.startsWith(BRANCH_PREFIX)) return ignored(deliveryId, `push: ref "${p.ref}" is not a branch`);
  const branch = p.ref.slice(BRANCH_PREFIX.length);
  if (ZERO_SHA.test(p.after)) return ignored(deliveryId, `push: branch "${branch}" deleted`);
  return {
    kind: 'accepted',
    event: {
      forge: 'gitlab',
      kind: 'push',
      deliveryId,
      repo: repoRef(p.project, gitUrl),
      sender: sender(p),
      ref: p.ref,
      branch,
      // For a branch `after` and checkout_sha agree; `after` is the ref's new value by definition.
      commit: p.after,
      before: p.before,
      // GitLab's push payload does not say whether the push was forced.
      forced: false,
    },
  };
}

function fromTagPush(p: TagPushPayload, deliveryId: string, gitUrl: string): DetectResult {
  if (!p.ref.startsWith(TAG_PREFIX)) return ignored(deliveryId, `tag_push: ref "${p.ref}" is not a tag`);
  const tag = p.ref.slice(TAG_PREFIX.length);
  if (ZERO_SHA.test(p.after)) return ignored(deliveryId, `tag_push: tag "${tag}" deleted`);
  return {
    kind: 'accepted',
    event: {
      forge: 'gitlab',
      kind: 'tag',
      deliveryId,
      repo: repoRef(p.project, gitUrl),
      sender: sender(p),
      ref: p.ref,
      tag,
      // For an annotated tag `after` is the tag object; checkout_sha is the commit it points at.
      commit: p.checkout_sha ?? p.after,
    },
  };
}

/**
 * GitLab's `user_username` is the login. The docs' own tag push example omits it (webhook_events.md),
 * so a missing one becomes "" (unknown) rather than the display name `user_name`, which could
 * collide with someone else's login.
 */
function sender(p: { user_username?: string | undefined }): string {
  return p.user_username ?? '';
}

/** MR actions (webhook_events.md): open|close|reopen|update|approved|unapproved|approval|unapproval|merge. */
function fromMergeRequest(body: unknown, event: string, deliveryId: string, gitUrl: string): DetectResult {
  const { action, oldrev } = parsePayload(mergeRequestAction, body, gitlabTerms, event).object_attributes;
  let mapped: ChangeRequestAction;
  let merged = false;
  switch (action) {
    case 'open':
      mapped = 'opened';
      break;
    case 'reopen':
      mapped = 'reopened';
      break;
    case 'close':
      mapped = 'closed';
      break;
    case 'merge':
      mapped = 'closed';
      merged = true;
      break;
    case 'update':
      // `oldrev` appears only when the update pushed new commits; otherwise it was a title, label or
      // description edit, which changes nothing to build.
      if (oldrev === undefined || oldrev === null || oldrev === '') {
        return labelAdded(body, event, deliveryId, gitUrl) ?? ignored(deliveryId, 'merge_request: update without new commits');
      }
      mapped = 'synchronize';
      break;
    default:
      return ignored(deliveryId, `merge_request: unsupported action "${action}"`);
  }
  return { kind: 'accepted', event: changeRequest(parsePayload(mergeRequestPayload, body, gitlabTerms, event), mapped, merged, deliveryId, gitUrl) };
}

/**
 * GitLab has no "labeled" action: a label added shows as an `update` whose `changes.labels` lists the
 * titles before and after. Only Slipway's own label, newly added, is an event.
 */
function labelAdded(body: unknown, event: string, deliveryId: string, gitUrl: string): DetectResult | undefined {
  const labels = parsePayload(mergeRequestLabelChanges, body, gitlabTerms, event).changes?.labels;
  const has = (list: { title: string }[] | null | undefined) => (list ?? []).some((l) => l.title === OK_TO_PREVIEW_LABEL);
  if (labels === undefined || has(labels.previous) || !has(labels.current)) return undefined;
  const p = parsePayload(mergeRequestPayload, body, gitlabTerms, event);
  const { user } = parsePayload(mergeRequestSender, body, gitlabTerms, event);
  const mr = p.object_attributes;
  return {
    kind: 'accepted',
    event: {
      forge: 'gitlab',
      kind: 'label',
      deliveryId,
      repo: repoRef(p.project, gitUrl),
      sender: user.username,
      senderId: user.id,
      label: OK_TO_PREVIEW_LABEL,
      number: mr.iid,
      head: headOf(mr, p.project, gitUrl),
    },
  };
}

/** A new note on a merge request carrying a command (Pipelines-as-Code's GitOps commands). */
function fromNote(body: unknown, event: string, deliveryId: string, gitUrl: string): DetectResult {
  const { object_attributes: note } = parsePayload(noteKind, body, gitlabTerms, event);
  if (note.noteable_type !== 'MergeRequest') return ignored(deliveryId, `note: on a ${note.noteable_type}, not a merge request`);
  if (note.action !== undefined && note.action !== 'create') return ignored(deliveryId, `note: unsupported action "${note.action}"`);
  if (note.system === true) return ignored(deliveryId, 'note: system note');
  const command = parseCommand(note.note ?? '');
  if (command === undefined) return ignored(deliveryId, 'note: no Slipway command');
  const p: MergeRequestNotePayload = parsePayload(mergeRequestNotePayload, body, gitlabTerms, event);
  return {
    kind: 'accepted',
    event: {
      forge: 'gitlab',
      kind: 'comment',
      deliveryId,
      repo: repoRef(p.project, gitUrl),
      sender: p.user.username,
      senderId: p.user.id,
      command,
      number: p.merge_request.iid,
      head: headOf(p.merge_request, p.project, gitUrl),
    },
  };
}

function headOf(
  mr: {
    source_branch: string;
    source_project_id: number;
    target_project_id: number;
    source?: { git_http_url: string; path_with_namespace?: string | undefined } | null | undefined;
    last_commit: { id: string };
  },
  project: { path_with_namespace: string },
  gitUrl: string,
): ChangeRequestHead {
  return {
    fork: mr.source_project_id !== mr.target_project_id,
    headRef: mr.source_branch,
    headSha: mr.last_commit.id,
    // With the source project deleted, the target still holds the commits under
    // refs/merge-requests/<iid>/head, so fetching headSha from the target works.
    headCloneUrl: forgeCloneUrl(gitUrl, mr.source?.path_with_namespace ?? project.path_with_namespace),
  };
}

function changeRequest(p: MergeRequestPayload, action: ChangeRequestAction, merged: boolean, deliveryId: string, gitUrl: string): ChangeRequestEvent {
  const mr = p.object_attributes;
  return {
    forge: 'gitlab',
    kind: 'change_request',
    deliveryId,
    repo: repoRef(p.project, gitUrl),
    sender: p.user.username,
    action,
    number: mr.iid,
    merged,
    ...headOf(mr, p.project, gitUrl),
    baseRef: mr.target_branch,
    title: mr.title,
    webUrl: mr.url,
  };
}

/** The clone URL comes from the configured `gitlab.gitUrl`, never from the payload (core/git-names.ts). */
function repoRef(project: { path_with_namespace: string; web_url: string }, gitUrl: string): RepoRef {
  return { forge: 'gitlab', fullName: project.path_with_namespace, cloneUrl: forgeCloneUrl(gitUrl, project.path_with_namespace), webUrl: project.web_url };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === '' ? undefined : value;
}

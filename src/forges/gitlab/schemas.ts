import { z } from 'zod';
import { branchName, commitSha, refName, repoPath } from '../fields.js';

/**
 * Only the fields Slipway reads from GitLab's payloads (docs.gitlab.com, "Webhook events";
 * gitlabhq doc/user/project/integrations/webhook_events.md). Objects are loose: extra fields are fine.
 */

const project = z.looseObject({
  path_with_namespace: repoPath,
  git_http_url: z.string(),
  web_url: z.string(),
});

/** `Push Hook` and `Tag Push Hook` share one shape (Gitlab::DataBuilder::Push). */
const pushShape = {
  ref: refName,
  before: commitSha,
  after: commitSha,
  // The commit the ref points at; for an annotated tag `after` is the tag object, this is its commit.
  checkout_sha: commitSha.nullish(),
  // Absent from the docs' tag push example, present in what GitLab sends; see detect.ts.
  user_username: z.string().optional(),
  project,
};

export const pushPayload = z.looseObject({ object_kind: z.literal('push'), ...pushShape });
export type PushPayload = z.infer<typeof pushPayload>;

export const tagPushPayload = z.looseObject({ object_kind: z.literal('tag_push'), ...pushShape });
export type TagPushPayload = z.infer<typeof tagPushPayload>;

/** Read first, so actions Slipway ignores are not held to the full schema. */
export const mergeRequestAction = z.looseObject({
  object_kind: z.literal('merge_request'),
  object_attributes: z.looseObject({
    action: z.string(),
    // Present only when an update carries new commits (webhook_events.md, "Merge request events").
    oldrev: z.string().nullish(),
  }),
});

/** Where an MR's head lives: the same fields in MR hooks (`object_attributes`) and notes (`merge_request`). */
const mergeRequestHead = {
  source_branch: branchName,
  source_project_id: z.number(),
  target_project_id: z.number(),
  // Null when the source project has been deleted.
  source: z.looseObject({ git_http_url: z.string(), path_with_namespace: repoPath.optional() }).nullish(),
  last_commit: z.looseObject({ id: commitSha }),
};

export const mergeRequestPayload = z.looseObject({
  object_kind: z.literal('merge_request'),
  user: z.looseObject({ username: z.string() }),
  project,
  object_attributes: z.looseObject({
    iid: z.number(),
    title: z.string(),
    url: z.string(),
    action: z.string(),
    target_branch: branchName,
    ...mergeRequestHead,
  }),
});
export type MergeRequestPayload = z.infer<typeof mergeRequestPayload>;

/** `changes.labels` of an MR update (webhook_events.md, "Merge request events"): titles before and after. */
const labelList = z.array(z.looseObject({ title: z.string() }));
export const mergeRequestLabelChanges = z.looseObject({
  changes: z.looseObject({ labels: z.looseObject({ previous: labelList.nullish(), current: labelList.nullish() }).optional() }).optional(),
});

/** Who made the change: read only once the change matters (the approval label). */
export const mergeRequestSender = z.looseObject({ user: z.looseObject({ id: z.number(), username: z.string() }) });

/**
 * `Note Hook` on a merge request (webhook_events.md, "Comment events"). Read in two steps, so notes
 * Slipway ignores (on commits, issues, snippets; system notes) are not held to the full schema.
 */
export const noteKind = z.looseObject({
  object_kind: z.literal('note'),
  object_attributes: z.looseObject({
    noteable_type: z.string(),
    note: z.string().nullish(),
    // `create` or `update` (GitLab 15.x+); older GitLab sends no action, only for new notes.
    action: z.string().optional(),
    system: z.boolean().optional(),
  }),
});

export const mergeRequestNotePayload = z.looseObject({
  object_kind: z.literal('note'),
  user: z.looseObject({ id: z.number(), username: z.string() }),
  project,
  object_attributes: z.looseObject({ note: z.string() }),
  merge_request: z.looseObject({ iid: z.number(), ...mergeRequestHead }),
});
export type MergeRequestNotePayload = z.infer<typeof mergeRequestNotePayload>;

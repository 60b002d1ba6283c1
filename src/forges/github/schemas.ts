import { z } from 'zod';
import { branchName, commitSha, refName, repoPath } from '../fields.js';

/**
 * Only the fields Slipway reads from GitHub's payloads (docs.github.com, "Webhook events and payloads").
 * Objects are loose: GitHub adds fields often, and an extra field must never reject a delivery.
 */

const user = z.looseObject({ login: z.string() });
/** `sender` with its numeric id (comment commands and labels check the sender's permission). */
const senderWithId = z.looseObject({ login: z.string(), id: z.number() });

const repository = z.looseObject({
  id: z.number(),
  full_name: repoPath,
  clone_url: z.string(),
  html_url: z.string(),
});

export const pushPayload = z.looseObject({
  ref: refName,
  before: commitSha,
  after: commitSha,
  deleted: z.boolean().optional(),
  forced: z.boolean().optional(),
  // Null when a ref is deleted; present on tag creation since 2021-10-01
  // (github.blog/changelog/2021-10-01-the-push-webhook-payload-provides-a-consistent-head_commit-on-tag-creation).
  head_commit: z.looseObject({ id: commitSha }).nullish(),
  repository,
  sender: user,
});
export type PushPayload = z.infer<typeof pushPayload>;

/** Read first, so actions Slipway ignores are not held to the full schema. */
export const pullRequestAction = z.looseObject({ action: z.string() });

export const pullRequestPayload = z.looseObject({
  action: z.string(),
  pull_request: z.looseObject({
    number: z.number(),
    title: z.string(),
    html_url: z.string(),
    // Documented as nullable in @octokit/webhooks-types; only meaningful once closed.
    merged: z.boolean().nullish(),
    head: z.looseObject({
      ref: branchName,
      sha: commitSha,
      // Null when the fork the PR came from has been deleted.
      repo: repository.nullable(),
    }),
    base: z.looseObject({ ref: branchName, repo: repository }),
  }),
  repository,
  sender: user,
});
export type PullRequestPayload = z.infer<typeof pullRequestPayload>;

/** `pull_request` with action `labeled`: the PR as for other actions, plus the label added. */
export const pullRequestLabeledPayload = pullRequestPayload.extend({
  label: z.looseObject({ name: z.string() }),
  sender: senderWithId,
});
export type PullRequestLabeledPayload = z.infer<typeof pullRequestLabeledPayload>;

/**
 * `issue_comment` (docs.github.com, "Webhook events and payloads"): comments on pull requests arrive
 * as issue comments, told apart by `issue.pull_request`. Read in two steps, so comments Slipway ignores
 * (on plain issues, edited, deleted) are not held to the full schema.
 */
export const issueCommentAction = z.looseObject({ action: z.string() });
export const issueCommentPayload = z.looseObject({
  action: z.string(),
  issue: z.looseObject({
    number: z.number(),
    // Present (an object of URLs) only when the issue is a pull request.
    pull_request: z.looseObject({}).nullish(),
  }),
  comment: z.looseObject({ id: z.number(), body: z.string().nullable() }),
  repository,
  sender: senderWithId,
});
export type IssueCommentPayload = z.infer<typeof issueCommentPayload>;

/** Repository hooks carry `repository`; organization and GitHub App hooks do not. */
export const pingPayload = z.looseObject({
  hook_id: z.number().optional(),
  hook: z.looseObject({ type: z.string() }).optional(),
  repository: repository.optional(),
  organization: z.looseObject({ login: z.string() }).optional(),
  sender: user.optional(),
});
export type PingPayload = z.infer<typeof pingPayload>;

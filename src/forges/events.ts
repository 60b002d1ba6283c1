import type { ForgeId } from './registry.js';

/**
 * What a forge's `detect()` turns a webhook into: one event in forge-neutral words. `forge` is an id of
 * the registry (registry.ts), so the union grows with the forges registered there.
 */

/** The repository an event came from, as Slipway's config names it (`github:octo/hello`). */
export interface RepoRef {
  forge: ForgeId;
  /** `owner/name` on GitHub, `group/subgroup/project` on GitLab. */
  fullName: string;
  /** Where `git fetch` reaches the repository (an app's `cloneUrl` overrides it). */
  cloneUrl: string;
  /** Human page of the repository, for links. */
  webUrl: string;
}

interface ForgeEventBase {
  forge: ForgeId;
  /** The forge's delivery id (`X-GitHub-Delivery`, `X-Gitlab-Event-UUID`): the dedupe key. */
  deliveryId: string;
  repo: RepoRef;
  /** Login / username of who caused the event. */
  sender: string;
}

/** A push that moved a branch to a commit. */
export interface PushEvent extends ForgeEventBase {
  kind: 'push';
  /** Full ref, `refs/heads/main`. */
  ref: string;
  branch: string;
  /** Commit sha the branch now points at (40 hex). */
  commit: string;
  /** Commit the branch pointed at before (all zeros for a new branch). */
  before: string;
  /** GitHub says so; GitLab does not tell (false). */
  forced: boolean;
}

/** A tag pushed (created or moved). */
export interface TagEvent extends ForgeEventBase {
  kind: 'tag';
  ref: string;
  tag: string;
  commit: string;
}

export type ChangeRequestAction = 'opened' | 'synchronize' | 'reopened' | 'closed';

/** A GitHub pull request or GitLab merge request. GitLab actions are mapped onto GitHub's words. */
export interface ChangeRequestEvent extends ForgeEventBase {
  kind: 'change_request';
  action: ChangeRequestAction;
  /** PR number (GitHub) or MR iid (GitLab). */
  number: number;
  /** True when closed by merging. */
  merged: boolean;
  /** True when the head lives in another repository than the base (no secrets, no preview without approval). */
  fork: boolean;
  headRef: string;
  headSha: string;
  /** Where the head commit can be fetched (the fork's URL for fork PRs). */
  headCloneUrl: string;
  baseRef: string;
  title: string;
  webUrl: string;
}

/** GitHub `ping` / a GitLab test hook: proves the hook works, builds nothing. */
export interface PingEvent extends ForgeEventBase {
  kind: 'ping';
}

/**
 * Commands maintainers write in a pull/merge request comment (Pipelines-as-Code's GitOps
 * commands): `/ok-to-test` approves a fork's preview, `/retest` rebuilds the head commit, `/cancel`
 * cancels the running builds. Who may run them is checked later, against the forge (never in the request).
 */
export type ChangeRequestCommand = 'ok-to-test' | 'retest' | 'cancel';

/** The head of a pull/merge request as a payload tells it: enough to build it without asking the forge. */
export interface ChangeRequestHead {
  headRef: string;
  headSha: string;
  headCloneUrl: string;
  fork: boolean;
}

/** A comment on a pull/merge request that carries a Slipway command (other comments are ignored). */
export interface CommentEvent extends ForgeEventBase {
  kind: 'comment';
  command: ChangeRequestCommand;
  /** PR number (GitHub) or MR iid (GitLab). */
  number: number;
  /** The commenter's numeric id: GitLab's member API is keyed by it (GitHub's by login, `sender`). */
  senderId: number;
  /** GitLab notes carry the MR's head; GitHub issue comments do not (Slipway uses its latest build then). */
  head: ChangeRequestHead | undefined;
}

/** A label added to a pull/merge request; only `slipway/ok-to-preview` is accepted (forges/commands.ts). */
export interface LabelEvent extends ForgeEventBase {
  kind: 'label';
  label: string;
  number: number;
  senderId: number;
  head: ChangeRequestHead;
}

export type ForgeEvent = PushEvent | TagEvent | ChangeRequestEvent | PingEvent | CommentEvent | LabelEvent;

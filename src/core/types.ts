/**
 * Domain types shared by every module. This file imports nothing internal: it is the bottom of the
 * dependency graph (docs/architecture.md "Modules").
 */

/** Forge ids: string-literal union so a typo is a compile error, not a runtime miss. */
export type ForgeId = 'github' | 'gitlab';

/** `sha256:<64 hex>`; content addresses are the only way images are promoted or signed. */
export type Digest = `sha256:${string}`;

export const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

/** An RFC 1123 DNS label starting with a letter: app names and tags, which become host names (`<tag>-<app>.<domain>`). */
export const DNS_LABEL_RE = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function isDigest(value: string): value is Digest {
  return DIGEST_RE.test(value);
}

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

/**
 * Build states (docs/architecture.md "Build states"). A build ends in the end state of the last stage that
 * reached one, and never pretends to have run a stage: `ready` once promoted, `built` when the stages after
 * the build were skipped (a fork's pull request before a maintainer approved it), `signed` for a pipeline
 * that ends at signing.
 */
export const ACTIVE_BUILD_STATES = ['queued', 'fetching', 'building', 'checking', 'injecting', 'signing', 'promoting'] as const;
/** The end states stages reach: the build did all it was asked. */
export const REACHED_BUILD_STATES = ['built', 'signed', 'ready'] as const;
/**
 * `fetched`: no stage reaches it (a build always builds what it fetched), but an older Slipway ended builds
 * so and their rows still hold it: it reads as an end state that succeeded.
 */
const RETIRED_BUILD_STATES = ['fetched'] as const;
/** A build that did all it was asked: `slipway logs -f` and `slipway deploy` exit 0. */
export const SUCCESS_BUILD_STATES = [...RETIRED_BUILD_STATES, ...REACHED_BUILD_STATES] as const;
export const FAILURE_BUILD_STATES = ['failed', 'rejected', 'canceled'] as const;
export const TERMINAL_BUILD_STATES = [...SUCCESS_BUILD_STATES, ...FAILURE_BUILD_STATES] as const;
export const BUILD_STATES = [...ACTIVE_BUILD_STATES, ...TERMINAL_BUILD_STATES] as const;
export type BuildState = (typeof BUILD_STATES)[number];
export type ReachedBuildState = (typeof REACHED_BUILD_STATES)[number];

export function isTerminalState(state: BuildState): boolean {
  return (TERMINAL_BUILD_STATES as readonly string[]).includes(state);
}

/** Whether a build (its state as stored or as the API says it) ended having done all it was asked. */
export function isSuccessState(state: string): boolean {
  return (SUCCESS_BUILD_STATES as readonly string[]).includes(state);
}

/** Whether a build ended without doing what it was asked: failed, rejected by a policy, or canceled. */
export function isFailureState(state: string): boolean {
  return (FAILURE_BUILD_STATES as readonly string[]).includes(state);
}

/** The policy gates, in the order a build meets them. */
export const GATES = ['source', 'build', 'image', 'promote'] as const;
export type Gate = (typeof GATES)[number];

/** What caused a build. */
export type BuildTrigger = 'push' | 'tag' | 'change_request' | 'upload' | 'git' | 'cli' | 'image';
